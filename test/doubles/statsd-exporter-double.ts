import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Labels = Record<string, string>;

/**
 * A stand-in for statsd_exporter's `/metrics` endpoint: serves Prometheus text exposition (format 0.0.4)
 * of series the test sets, named and labelled as deploy/statsd/statsd-mapping.yml produces them.
 */
export interface StatsdExporterDouble {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** host:port, for a Prometheus scrape target. */
  target: string;
  /** Sets a series to a value (creates it). */
  set(name: string, labels: Labels, value: number): void;
  /** Adds to a series (creates it at 0 first). */
  add(name: string, labels: Labels, delta: number): void;
  /** Records `count` observations of `value` into a histogram (`_bucket`, `_sum`, `_count`). */
  observe(name: string, labels: Labels, buckets: readonly number[], value: number, count?: number): void;
  /** How many times /metrics was fetched. */
  scrapes(): number;
  close(): Promise<void>;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function seriesKey(name: string, labels: Labels): string {
  const inner = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
  return inner === '' ? name : `${name}{${inner}}`;
}

function formatValue(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export async function startStatsdExporterDouble(): Promise<StatsdExporterDouble> {
  const series = new Map<string, number>();
  let scrapeCount = 0;

  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    scrapeCount += 1;
    const body = [...series.entries()].map(([key, value]) => `${key} ${formatValue(value)}`).join('\n');
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(`${body}\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const set = (name: string, labels: Labels, value: number): void => {
    series.set(seriesKey(name, labels), value);
  };
  const add = (name: string, labels: Labels, delta: number): void => {
    const key = seriesKey(name, labels);
    series.set(key, (series.get(key) ?? 0) + delta);
  };

  return {
    url: `http://127.0.0.1:${port}`,
    target: `127.0.0.1:${port}`,
    set,
    add,
    observe(name, labels, buckets, value, count = 1) {
      for (const le of [...buckets, Infinity]) {
        add(`${name}_bucket`, { ...labels, le: formatValue(le) }, value <= le ? count : 0);
      }
      add(`${name}_sum`, labels, value * count);
      add(`${name}_count`, labels, count);
    },
    scrapes: () => scrapeCount,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
