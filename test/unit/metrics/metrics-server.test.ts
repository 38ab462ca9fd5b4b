import { Counter, Gauge, Registry } from 'prom-client';
import { type MetricsServer, startMetricsServer } from '../../../src/metrics/metrics-server';
import { parseMetrics, valueOf } from '../../helpers/metrics-text';

let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(registry: Registry): Promise<MetricsServer> {
  server = await startMetricsServer({ registry, port: 0, host: '127.0.0.1' });
  return server;
}

describe('startMetricsServer', () => {
  it('serves the registry at /metrics in the Prometheus text format', async () => {
    const registry = new Registry();
    new Counter({ name: 'incidentflow_test_total', help: 'test', registers: [registry] }).inc(3);
    const s = await start(registry);
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(valueOf(parseMetrics(await res.text()), 'incidentflow_test_total')).toBe(3);
  });

  it('answers /healthz with ok', async () => {
    const s = await start(new Registry());
    const res = await fetch(`${s.url}/healthz`);
    expect([res.status, await res.json()]).toEqual([200, { status: 'ok' }]);
  });

  it.each([
    ['GET', '/', 404],
    ['GET', '/metrics/extra', 404],
    ['POST', '/metrics', 405],
    ['DELETE', '/healthz', 405],
  ])('answers %s %s with %i', async (method, path, status) => {
    const s = await start(new Registry());
    const res = await fetch(`${s.url}${path}`, { method });
    expect(res.status).toBe(status);
  });

  it('answers 500 without details when a collector fails', async () => {
    const registry = new Registry();
    new Gauge({
      name: 'incidentflow_broken',
      help: 'fails',
      registers: [registry],
      collect() {
        throw new Error('secret detail');
      },
    });
    const s = await start(registry);
    const res = await fetch(`${s.url}/metrics`);
    expect([res.status, await res.text()]).toEqual([500, 'metrics collection failed\n']);
  });

  it('stops accepting connections after close, even with a kept-alive scraper', async () => {
    const s = await start(new Registry());
    await fetch(`${s.url}/metrics`, { headers: { connection: 'keep-alive' } });
    await s.close();
    server = undefined;
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('fails to start on a port that is taken', async () => {
    const s = await start(new Registry());
    await expect(
      startMetricsServer({ registry: new Registry(), port: s.port, host: '127.0.0.1' }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
