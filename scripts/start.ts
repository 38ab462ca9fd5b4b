/**
 * Supervisor for the embedded default (`npm start`): reuses a Temporal server that already answers at
 * TEMPORAL_ADDRESS or starts `temporal server start-dev` (SQLite under .data/, Web UI, search attributes),
 * then runs the worker and the API in one process. Ctrl-C / SIGTERM stops everything it started.
 *
 * Ports: PORT (API), TEMPORAL_ADDRESS (gRPC of the dev server), TEMPORAL_UI_PORT, SLACK_DOUBLE_PORT and
 * AIRFLOW_DOUBLE_PORT (the local doubles), INCIDENTFLOW_WORKER_METRICS_PORT (Temporal SDK metrics).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { loadEnv } from '../src/config/env';
import { createTemporalClient, pingTemporal } from '../src/temporal/client';
import { devServerSearchAttributeFlags } from '../src/temporal/search-attributes';
import { resolveTool } from '../src/config/tools';

const root = resolve(__dirname, '..');
if (existsSync(resolve(root, '.env'))) process.loadEnvFile(resolve(root, '.env'));
const env = loadEnv();
const say = (msg: string): void => console.log(`[start] ${msg}`);

const children: ChildProcess[] = [];
let shuttingDown = false;

function track(child: ChildProcess, name: string): Promise<number> {
  children.push(child);
  return new Promise((done) => {
    child.on('exit', (code, signal) => {
      if (!shuttingDown) {
        say(`${name} exited (${signal ?? code}); stopping everything`);
        void shutdown(1);
      }
      done(code ?? 1);
    });
  });
}

async function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((done) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      done();
    }, ms);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
  });
}

async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  // Stop in reverse order: the app first (it drains the worker), then the Temporal server.
  for (const child of [...children].reverse()) {
    child.kill('SIGTERM');
    await waitExit(child, 45_000);
  }
  process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    say(`${signal}: stopping`);
    void shutdown(0);
  });
}

async function waitForTemporal(timeoutMs: number): Promise<boolean> {
  const temporal = createTemporalClient(env.TEMPORAL_ADDRESS, env.TEMPORAL_NAMESPACE);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline && !shuttingDown) {
      if (await pingTemporal(temporal, 1_000)) return true;
      await new Promise((r) => setTimeout(r, 300));
    }
    return false;
  } finally {
    await temporal.close();
  }
}

function isLocal(address: string): boolean {
  return /^(localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0):\d+$/.test(address);
}

/** Starts a demo double script and resolves with the URL it prints as `<NAME>=<url>` on its first line. */
async function startDouble(script: string, port: string, name: string): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'scripts', script), port], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  void track(child, script);
  return new Promise((resolveUrl, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = new RegExp(`${name}=(\\S+)`).exec(buffer);
      if (match?.[1]) resolveUrl(match[1]);
    });
    child.once('exit', () => reject(new Error(`${script} did not start`)));
  });
}

/** Starts the Slack double (scripts/slack-double.ts) and resolves with its base URL. */
async function startSlackDouble(): Promise<string> {
  const apiUrl = await startDouble(
    'slack-double.ts',
    process.env.SLACK_DOUBLE_PORT ?? '4010',
    'SLACK_API_URL',
  );
  return apiUrl.replace(/\/api\/$/, '');
}

async function main(): Promise<void> {
  let startedServer = false;
  if (await waitForTemporal(1_500)) {
    say(`using the Temporal server already answering at ${env.TEMPORAL_ADDRESS}`);
  } else if (!isLocal(env.TEMPORAL_ADDRESS)) {
    say(`Temporal at ${env.TEMPORAL_ADDRESS} does not answer and is not local: not starting a dev server`);
    process.exit(1);
  } else {
    const port = env.TEMPORAL_ADDRESS.split(':').pop() ?? '7233';
    const dbFile = resolve(root, env.TEMPORAL_DB_FILE);
    mkdirSync(dirname(dbFile), { recursive: true });
    const args = [
      'server',
      'start-dev',
      '--ip',
      '127.0.0.1',
      '--port',
      port,
      '--ui-port',
      String(env.TEMPORAL_UI_PORT),
      '--db-filename',
      dbFile,
      '--namespace',
      env.TEMPORAL_NAMESPACE,
      '--log-level',
      'error',
      ...devServerSearchAttributeFlags(),
    ];
    say(`starting Temporal dev server (${resolveTool('temporal')}), data in ${env.TEMPORAL_DB_FILE}`);
    void track(
      spawn(resolveTool('temporal'), args, { stdio: ['ignore', 'inherit', 'inherit'] }),
      'temporal dev server',
    );
    startedServer = true;
    if (!(await waitForTemporal(60_000))) {
      say('Temporal dev server did not become ready within 60s');
      await shutdown(1);
    }
  }

  const workerMetricsPort = process.env.INCIDENTFLOW_WORKER_METRICS_PORT ?? '9464';
  const appEnv: NodeJS.ProcessEnv = { ...process.env, INCIDENTFLOW_WORKER_METRICS_PORT: workerMetricsPort };
  let slackDouble: string | undefined;
  if (!process.env.SLACK_BOT_TOKEN) {
    // No real Slack: a local Slack Web API double receives the incident messages, so the demo shows them.
    slackDouble = await startSlackDouble();
    appEnv.SLACK_BOT_TOKEN = 'xoxb-local-slack-double';
    appEnv.SLACK_API_URL = `${slackDouble}/api/`;
    appEnv.SLACK_SIGNING_SECRET ??= 'local-slack-double-signing-secret';
  }
  let airflowDouble: string | undefined;
  if (!process.env.AIRFLOW_BASE_URL) {
    // No Airflow: a local Airflow API double with a failing customer_etl run (scenario 1), so the demo's runbook acts.
    airflowDouble = await startDouble(
      'airflow-double.ts',
      process.env.AIRFLOW_DOUBLE_PORT ?? '4011',
      'AIRFLOW_BASE_URL',
    );
    appEnv.AIRFLOW_BASE_URL = airflowDouble;
    appEnv.AIRFLOW_USERNAME = 'admin';
    appEnv.AIRFLOW_PASSWORD = 'admin';
  }

  const app = spawn(process.execPath, ['--import', 'tsx', resolve(root, 'src/main.ts')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: appEnv,
  });
  void track(app, 'incidentflow');

  const ui = startedServer ? `http://localhost:${env.TEMPORAL_UI_PORT}` : env.TEMPORAL_UI_URL;
  say('incidentflow is starting:');
  say(`  Temporal Web UI   ${ui}/namespaces/${env.TEMPORAL_NAMESPACE}/workflows`);
  say(
    `  API               http://localhost:${env.PORT}  (POST /api/v1/alerts/alertmanager, GET /api/v1/incidents)`,
  );
  say(
    `  Metrics           http://localhost:${env.PORT}/metrics  (worker/SDK: http://localhost:${workerMetricsPort}/metrics)`,
  );
  if (slackDouble) say(`  Slack (local double, no SLACK_BOT_TOKEN set)  ${slackDouble}/_double/messages`);
  if (airflowDouble)
    say(
      `  Airflow (local double, no AIRFLOW_BASE_URL set)  ${airflowDouble}/api/v1/dags/customer_etl/dagRuns`,
    );
  say(`  Demo alert        ${env.PORT === 8080 ? '' : `PORT=${env.PORT} `}npm run demo`);
}

void main();
