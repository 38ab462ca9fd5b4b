/**
 * `npm run bench:ingest`: alerts/s and p50/p99 latency through `POST /api/v1/alerts/alertmanager`, and a raw
 * `signalWithStart` loop against the same Temporal server in the same run, with the ratio of the two
 * (DESIGN §7 target ≥ 0.8). Then an alert storm: 10,000 alerts over 100 dedup keys must give exactly 100
 * incidents with every alert accounted for and no 5xx.
 *
 * Uses TEMPORAL_ADDRESS when a server answers there, else starts a throw-away dev server.
 * Options: --requests N (default 2000), --concurrency C (default 32), --storm-alerts N (default 10000).
 */
import * as http from 'node:http';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { Registry } from 'prom-client';
import { buildApp } from '../src/api/app';
import { createIncidentActions } from '../src/api/incident-actions';
import { ingestTokenHook } from '../src/api/ingest-auth';
import { createMemoryDeploymentRecorder } from '../src/api/memory-deployments';
import { loadConfig } from '../src/config/load-config';
import { resolveTool } from '../src/config/tools';
import { alertsFromWebhook, type AlertmanagerWebhook } from '../src/domain/alertmanager';
import { incidentWorkflowId, routeAlert } from '../src/domain/routing';
import {
  createIncidentStarter,
  defaultIncidentSettings,
  incidentStartOptions,
} from '../src/ingest/incident-starter';
import { createApiMetrics } from '../src/metrics/registry';
import { createTemporalClient, pingTemporal } from '../src/temporal/client';
import { incidentQuery } from '../src/workflows/definitions';
import { ALL_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const REQUESTS = arg('requests', 2000);
const CONCURRENCY = arg('concurrency', 32);
const STORM_ALERTS = arg('storm-alerts', 10_000);
const run = `${Date.now().toString(36)}`;

function payload(i: number, keys: number, prefix: string): AlertmanagerWebhook {
  const key = `${prefix}-${run}-${i % keys}`;
  return {
    version: '4',
    groupKey: `{}:{dedup_key="${key}"}`,
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'incidentflow',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local:9093',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'BenchAlert', service: 'bench', dedup_key: key, severity: 'P3', n: String(i) },
        annotations: { summary: `bench alert ${i}` },
        startsAt: new Date(1_795_000_000_000 + i * 1000).toISOString(),
        fingerprint: `${(i + 1).toString(16).padStart(16, '0')}`,
      },
    ],
  };
}

/**
 * POSTs a webhook over a keep-alive `node:http` agent. The load generator shares the process (and, on small
 * machines, the cores) with the API, worker and client, and undici's `fetch` costs several times more CPU per
 * request than the whole ingress route: measured with it, the ratio mostly reflected the load generator.
 */
function createPoster(url: string, token: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL('/api/v1/alerts/alertmanager', url);
  return (body: AlertmanagerWebhook): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        target,
        {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(data),
            authorization: `Bearer ${token}`,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(data);
    });
}

async function pool(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < total; i = next++) await fn(i);
    }),
  );
  return (performance.now() - started) / 1000;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

interface Result {
  rate: number;
  p50: number;
  p99: number;
  errors: number;
  seconds: number;
  latencies: number[];
}

/** Rounds of one side merged: total requests over total time, percentiles over all latencies. */
function combine(rounds: readonly Result[]): Result {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const seconds = rounds.reduce((t, r) => t + r.seconds, 0);
  return {
    rate: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors: rounds.reduce((n, r) => n + r.errors, 0),
    seconds,
    latencies,
  };
}

async function measure(total: number, fn: (i: number) => Promise<boolean>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const seconds = await pool(total, CONCURRENCY, async (i) => {
    const t0 = performance.now();
    const ok = await fn(i);
    latencies.push(performance.now() - t0);
    if (!ok) errors += 1;
  });
  latencies.sort((a, b) => a - b);
  return {
    rate: total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    errors,
    seconds,
    latencies,
  };
}

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
  const probe = createTemporalClient(address, 'default');
  const reuse = await pingTemporal(probe, 1_500);
  await probe.close();
  const env = reuse
    ? await TestWorkflowEnvironment.createFromExistingServer({ address })
    : await TestWorkflowEnvironment.createLocal({
        server: {
          executable: { type: 'existing-path', path: resolveTool('temporal') },
          searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
          log: { format: 'pretty', level: 'error' },
        },
      });
  const serverAddress = reuse ? address : env.address;
  console.log(
    `Temporal: ${reuse ? `existing server at ${address}` : `throw-away dev server at ${serverAddress}`}`,
  );
  const taskQueue = `bench-${run}`;
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowsPath: require.resolve('../src/workflows'),
    activities: {},
  });
  const workerRun = worker.run();

  const temporal = createTemporalClient(serverAddress, 'default');
  const registry = new Registry();
  const metrics = createApiMetrics(registry);
  const config = loadConfig('config');
  const routing = config.routing;
  const settings = defaultIncidentSettings({
    autoResolveGraceMs: 60_000,
    features: { slack: false, store: false, pagerduty: false, alertmanager: false },
  });
  const starter = createIncidentStarter({ temporal, taskQueue, config: () => config, settings });
  const app = buildApp({
    temporal,
    starter,
    actions: createIncidentActions({ temporal }),
    metrics,
    registry,
    requireIngestToken: ingestTokenHook('bench-token', metrics),
    deployments: createMemoryDeploymentRecorder(),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  const post = createPoster(url, 'bench-token');

  try {
    // Warm-up: connections, bundle, first workflow tasks.
    await measure(100, async (i) => (await post(payload(i, 20, 'warm'))).status === 202);

    const keys = 200;
    const postIngest = async (i: number): Promise<boolean> =>
      (await post(payload(i, keys, 'api'))).status === 202;
    // The baseline sends the very call the ingress sends (same input, search attributes, summary), straight
    // to Temporal: the ratio is the cost of HTTP, validation, routing and dedup.
    const rawSignalWithStart = async (i: number): Promise<boolean> => {
      const alerts = alertsFromWebhook(payload(i, keys, 'raw'));
      const decision = routeAlert(alerts[0]!.labels, routing);
      const workflowId = incidentWorkflowId(decision);
      await env.client.workflow.signalWithStart(
        'incidentWorkflow',
        incidentStartOptions({
          workflowId,
          decision,
          signal: {
            alerts: alerts.map((a) => ({ ...a, severity: decision.severity })),
            receivedAt: new Date().toISOString(),
          },
          config,
          settings,
          taskQueue,
        }),
      );
      return true;
    };
    // Alternating rounds, so neither side profits from a warmer server or a worker backlog left by the other.
    const rounds = 4;
    const perRound = Math.ceil(REQUESTS / rounds);
    const ingestRounds: Result[] = [];
    const rawRounds: Result[] = [];
    for (let r = 0; r < rounds; r++) {
      const offset = r * perRound;
      const runIngest = async (): Promise<void> => {
        ingestRounds.push(await measure(perRound, (i) => postIngest(offset + i)));
      };
      const runRaw = async (): Promise<void> => {
        rawRounds.push(await measure(perRound, (i) => rawSignalWithStart(offset + i)));
      };
      if (r % 2 === 0) {
        await runIngest();
        await runRaw();
      } else {
        await runRaw();
        await runIngest();
      }
    }
    const ingest = combine(ingestRounds);
    const raw = combine(rawRounds);

    const fmt = (r: Result): string =>
      `${r.rate.toFixed(0).padStart(6)} alerts/s   p50 ${r.p50.toFixed(1).padStart(6)} ms   p99 ${r.p99.toFixed(1).padStart(6)} ms   errors ${r.errors}`;
    console.log(
      `\nIngest benchmark: ${perRound * rounds} requests per side in ${rounds} alternating rounds, concurrency ${CONCURRENCY}, ${keys} incidents`,
    );
    console.log(`  POST /api/v1/alerts/alertmanager  ${fmt(ingest)}`);
    console.log(`  raw signalWithStart (baseline)    ${fmt(raw)}`);
    console.log(
      `  ratio ingest/raw                  ${(ingest.rate / raw.rate).toFixed(2)}  (target >= 0.80)`,
    );

    // Alert storm: 10,000 alerts over 100 dedup keys.
    const stormKeys = 100;
    let fivexx = 0;
    let accepted = 0;
    const storm = await measure(STORM_ALERTS, async (i) => {
      const res = await post(payload(i, stormKeys, 'storm'));
      if (res.status >= 500) fivexx += 1;
      accepted += (JSON.parse(res.body) as { accepted?: number }).accepted ?? 0;
      return res.status === 202;
    });
    const ids = new Set<string>();
    for await (const wf of env.client.workflow.list({
      query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
    })) {
      if (wf.workflowId.includes(`storm-${run}`)) ids.add(wf.workflowId);
    }
    let tracked = 0;
    for (const id of ids) {
      const view = await env.client.workflow.getHandle(id).query(incidentQuery);
      tracked += Object.keys(view.alerts).length + view.counters.untrackedAlerts;
    }
    console.log(`\nAlert storm: ${STORM_ALERTS} alerts over ${stormKeys} dedup keys`);
    console.log(`  ${storm.rate.toFixed(0)} alerts/s, p99 ${storm.p99.toFixed(1)} ms, 5xx: ${fivexx}`);
    console.log(
      `  incidents: ${ids.size} (want ${stormKeys}); alerts accepted: ${accepted}; alerts in incidents: ${tracked} (want ${STORM_ALERTS})`,
    );
    const ok =
      ids.size === stormKeys && tracked === STORM_ALERTS && fivexx === 0 && accepted === STORM_ALERTS;
    console.log(`  ${ok ? 'OK' : 'MISMATCH'}`);
    if (!ok) process.exitCode = 1;
  } finally {
    await app.close();
    await temporal.close();
    worker.shutdown();
    await workerRun;
    await env.teardown();
  }
}

void main();
