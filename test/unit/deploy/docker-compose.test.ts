import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { Env } from '../../../src/config/env';

const root = resolve(__dirname, '../../..');

interface Service {
  image?: string;
  build?: unknown;
  ports?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  volumes?: string[];
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
}

const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = Object.entries(compose.services);

describe('docker-compose.yml', () => {
  it('parses and defines the reference deployment', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgresql',
        'temporal',
        'temporal-ui',
        'incidentflow-worker',
        'incidentflow-api',
      ]),
    );
  });

  it.each(services)('%s has an image or a build, and pins image tags', (_name, service) => {
    expect(service.image ?? service.build).toBeDefined();
    if (service.image) expect(service.image).toMatch(/^[^:]+:(?!latest$)[\w.-]+$/);
  });

  it.each(services)('%s has a healthcheck', (_name, service) => {
    expect(service.healthcheck?.test).toBeDefined();
  });

  it('publishes the ports of DESIGN §3: API 8080, Temporal gRPC 7233, Web UI 8233', () => {
    expect(compose.services['incidentflow-api']!.ports).toContain('8080:8080');
    expect(compose.services.temporal!.ports).toContain('7233:7233');
    expect(compose.services['temporal-ui']!.ports).toContain('8233:8080');
  });

  it('gives incidentflow only environment variables the application knows', () => {
    const known = new Set(Object.keys(Env.shape));
    for (const name of ['incidentflow-worker', 'incidentflow-api']) {
      const env = compose.services[name]!.environment!;
      for (const key of Object.keys(env))
        expect({ service: name, key, known: known.has(key) }).toEqual({ service: name, key, known: true });
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.DATABASE_URL).toMatch(/^postgres:\/\/.+@postgresql:5432\//);
    }
    expect(compose.services['incidentflow-api']!.environment!.PORT).toBe('8080');
  });

  it('runs the worker and the API from the Dockerfile with their roles', () => {
    expect(existsSync(resolve(root, 'Dockerfile'))).toBe(true);
    expect(compose.services['incidentflow-worker']!.command).toContain('--role=worker');
    expect(compose.services['incidentflow-api']!.command).toContain('--role=api');
  });

  it.each(services)('%s mounts only files that exist', (_name, service) => {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!;
      if (source.startsWith('.'))
        expect({ source, exists: existsSync(resolve(root, source)) }).toEqual({ source, exists: true });
    }
  });

  it('mounts the shipped Prometheus rules, Alertmanager config, statsd mapping and Grafana dashboards', () => {
    expect(compose.services.prometheus!.volumes).toContain('./deploy/prometheus:/etc/prometheus:ro');
    expect(compose.services.alertmanager!.volumes).toContain(
      './deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro',
    );
    expect(compose.services['statsd-exporter']!.volumes).toContain(
      './deploy/statsd/statsd-mapping.yml:/etc/statsd/statsd-mapping.yml:ro',
    );
    expect(compose.services.grafana!.volumes).toEqual([
      './deploy/grafana/provisioning:/etc/grafana/provisioning:ro',
      './deploy/grafana/dashboards:/var/lib/grafana/dashboards/incidentflow:ro',
    ]);
  });

  it('points Prometheus and Alertmanager at the compose service names', () => {
    const prometheus = readFileSync(resolve(root, 'deploy/prometheus/prometheus.yml'), 'utf8');
    for (const target of [
      'incidentflow-api:8080',
      'incidentflow-worker:9464',
      'incidentflow-worker:9465',
      'alertmanager:9093',
      'statsd-exporter:9102',
    ]) {
      expect(prometheus).toContain(`'${target}'`);
    }
    const alertmanager = readFileSync(resolve(root, 'deploy/alertmanager/alertmanager.yml'), 'utf8');
    expect(alertmanager).toContain('http://incidentflow-api:8080/api/v1/alerts/alertmanager');
  });

  it('.env.example lists every environment variable the application reads', () => {
    const example = readFileSync(resolve(root, '.env.example'), 'utf8');
    const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
    for (const key of Object.keys(Env.shape))
      expect({ key, listed: listed.has(key) }).toEqual({ key, listed: true });
  });
});
