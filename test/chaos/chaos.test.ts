/**
 * The chaos suite: every shipped runbook, on the real Temporal dev server with the worker in its own
 * process, survives a SIGKILL of the worker before, during and after the side effect of each step, and a
 * restart of the Temporal server mid-incident, with every side effect applied exactly once and a timeline
 * without gaps. CHAOS_MODE=short (in `npm test`) runs a representative subset; `npm run test:chaos` all.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { loadConfig } from '../../src/config/load-config';
import { startPrometheus, type PrometheusProcess } from '../helpers/prometheus-process';
import { chaosConfigDir } from './chaos-config';
import { type Cell, type CellResult, runCell, type SuiteContext } from './driver';
import { selectCells } from './matrix';
import { formatTable, writeResults } from './report';
import { type RestartableServer, startRestartableServer } from './temporal-server';

const mode = process.env.CHAOS_MODE ?? 'short';
const cells = selectCells(mode, process.env.CHAOS_ONLY);
const concurrency = Math.max(1, Number(process.env.CHAOS_CONCURRENCY ?? (mode === 'short' ? 1 : 3)));

let server: RestartableServer;
let prometheus: PrometheusProcess;
let exporter: Server;

/** Airflow's task counters for Prometheus to scrape: successes only, so the failure rate is 0. */
async function startTaskCounterExporter(): Promise<Server> {
  let successes = 0;
  const s = createServer((_req, res) => {
    successes += 10;
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      `# TYPE airflow_ti_successes counter\nairflow_ti_successes ${successes}\n# TYPE airflow_ti_failures counter\nairflow_ti_failures 0\n`,
    );
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return s;
}

/** Runs `cells` with at most `n` at a time. */
async function runPool(ctx: SuiteContext, list: Cell[], n: number, out: CellResult[]): Promise<void> {
  const queue = [...list];
  const lane = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      const result = await runCell(ctx, cell);
      console.log(
        `chaos ${result.ok ? 'ok    ' : 'FAILED'} ${result.runbook}/${result.step}/${result.point} (${result.seconds}s)${result.ok ? '' : `: ${result.problems.join('; ')}`}`,
      );
      out.push(result);
    }
  };
  await Promise.all(Array.from({ length: n }, lane));
}

beforeAll(async () => {
  server = await startRestartableServer();
  exporter = await startTaskCounterExporter();
  prometheus = await startPrometheus([`127.0.0.1:${(exporter.address() as AddressInfo).port}`]);
}, 120_000);

afterAll(async () => {
  await prometheus?.close();
  await new Promise<void>((r) => (exporter ? exporter.close(() => r()) : r()));
  await server?.stop();
});

describe(`chaos (${mode}: ${cells.length} cells)`, () => {
  it(
    'loses nothing and repeats no side effect when the worker dies or the server restarts',
    async () => {
      expect(cells.length).toBeGreaterThan(0);
      const bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../../src/workflows'),
        logger: {
          log: () => undefined,
          trace: () => undefined,
          debug: () => undefined,
          info: () => undefined,
          warn: () => undefined,
          error: (m: string) => console.error(m),
        },
      });
      const bundlePath = join(mkdtempSync(join(tmpdir(), 'incidentflow-chaos-bundle-')), 'workflows.js');
      writeFileSync(bundlePath, bundle.code);
      const configDir = chaosConfigDir();
      const ctx: SuiteContext = {
        address: process.env.TEMPORAL_TEST_ADDRESS!,
        restartable: server,
        config: loadConfig(configDir),
        configDir,
        workflowBundlePath: bundlePath,
        prometheusUrl: prometheus.url,
      };
      const started = Date.now();
      const results: CellResult[] = [];
      // Restarts stop the suite's own server, which no kill cell uses: that lane runs beside the others.
      await Promise.all([
        runPool(
          ctx,
          cells.filter((c) => c.point !== 'server_restart'),
          concurrency,
          results,
        ),
        runPool(
          ctx,
          cells.filter((c) => c.point === 'server_restart'),
          1,
          results,
        ),
      ]);
      const seconds = Math.round((Date.now() - started) / 1000);
      const file = writeResults(resolve(__dirname, '../../.chaos'), mode, results, seconds);
      console.log(`${formatTable(results)}\n\n${results.length} cells in ${seconds}s; results in ${file}`);
      expect(results.filter((r) => !r.ok).map((r) => `${r.runbook}/${r.step}/${r.point}`)).toEqual([]);
    },
    4 * 60 * 60_000,
  );
});
