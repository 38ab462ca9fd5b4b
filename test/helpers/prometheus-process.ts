import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './ports';

export interface PrometheusProcess {
  url: string;
  close(): Promise<void>;
}

/** The real `prometheus` binary: PROMETHEUS_PATH, else the first on PATH (Debian package `prometheus`). */
export function prometheusBinary(): string {
  const override = process.env.PROMETHEUS_PATH;
  if (override) return override;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'prometheus');
    if (dir && existsSync(candidate)) return candidate;
  }
  throw new Error(
    'prometheus binary not found: install the Debian package "prometheus" (.ci/run does) or set PROMETHEUS_PATH',
  );
}

/**
 * Starts a throw-away Prometheus on a free loopback port scraping `targets` (host:port) every
 * `scrapeInterval`, with its TSDB in a temporary directory; resolves once `/-/ready` answers.
 */
export async function startPrometheus(targets: string[], scrapeInterval = '1s'): Promise<PrometheusProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-prom-'));
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      `  scrape_interval: ${scrapeInterval}`,
      `  evaluation_interval: ${scrapeInterval}`,
      'scrape_configs:',
      '  - job_name: exporter',
      '    static_configs:',
      `      - targets: [${targets.map((t) => `'${t}'`).join(', ')}]`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const child = spawn(
    prometheusBinary(),
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;

  const close = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await close();
      throw new Error(`prometheus exited with ${child.exitCode}: ${stderr}`);
    }
    try {
      const res = await fetch(`${url}/-/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`prometheus not ready after 30s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, close };
}
