/**
 * `npm start` as a newcomer runs it: in a fresh clone of the committed HEAD, every port chosen through the
 * environment. It must become ready, take the demo alert (`npm run demo`) and list the incident; SIGINT to
 * its process group must then leave no process and no listening port behind.
 *
 * The clone gets symlinks to this checkout's installed `node_modules` and `.tools` instead of downloading
 * them again (start.sh then finds both installed and goes straight to the supervisor).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { IncidentSummary } from '../../src/api/incident-actions';
import { freePort } from '../helpers/ports';
import {
  descendantsOf,
  isAlive,
  listeningPortsOf,
  portsStillListening,
  processGroupMembers,
} from '../helpers/process-tree';
import { eventually } from '../helpers/temporal';

jest.setTimeout(12 * 60_000);

const root = resolve(__dirname, '../..');
let clone: string;
let npmStart: ChildProcess | undefined;
let output = '';

/** Output of `npm start` so far, for failure messages. */
function logTail(): string {
  return `\n--- npm start output ---\n${output.slice(-6_000)}`;
}

beforeAll(() => {
  const installedLock = join(root, 'node_modules', '.package-lock.json');
  // Without it start.sh would run `npm ci` through the symlink, into this checkout's node_modules.
  if (!existsSync(installedLock)) throw new Error(`${installedLock} is missing: run npm ci first`);
  clone = mkdtempSync(join(tmpdir(), 'incidentflow-npm-start-'));
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--no-checkout', root, clone]);
  execFileSync('git', ['-C', clone, 'checkout', '--quiet', head]);
  symlinkSync(realpathSync(join(root, 'node_modules')), join(clone, 'node_modules'));
  symlinkSync(realpathSync(join(root, '.tools')), join(clone, '.tools'));
  // A checkout dates package-lock.json now, which start.sh would read as "packages out of date".
  const longAgo = new Date('2000-01-01T00:00:00Z');
  utimesSync(join(clone, 'package-lock.json'), longAgo, longAgo);
});

afterAll(() => {
  // Only if the test failed before its own clean stop: take the whole group down.
  if (npmStart?.pid && processGroupMembers(npmStart.pid).length > 0) process.kill(-npmStart.pid, 'SIGKILL');
  if (clone) rmSync(clone, { recursive: true, force: true });
});

describe('npm start in a fresh clone', () => {
  it('serves the demo incident and leaves no process or port behind after SIGINT', async () => {
    const ports = {
      PORT: await freePort(),
      TEMPORAL: await freePort(),
      TEMPORAL_UI_PORT: await freePort(),
      SLACK_DOUBLE_PORT: await freePort(),
      AIRFLOW_DOUBLE_PORT: await freePort(),
      INCIDENTFLOW_WORKER_METRICS_PORT: await freePort(),
    };
    const env: NodeJS.ProcessEnv = { ...process.env };
    // Nothing of this machine's own setup may leak in: the embedded default is under test.
    for (const name of Object.keys(env)) {
      if (/^(INCIDENTFLOW_|TEMPORAL_|SLACK_|AIRFLOW_|DATABASE_URL$|PORT$|HOST$)/.test(name)) delete env[name];
    }
    Object.assign(env, {
      PORT: String(ports.PORT),
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.TEMPORAL}`,
      TEMPORAL_UI_PORT: String(ports.TEMPORAL_UI_PORT),
      SLACK_DOUBLE_PORT: String(ports.SLACK_DOUBLE_PORT),
      AIRFLOW_DOUBLE_PORT: String(ports.AIRFLOW_DOUBLE_PORT),
      INCIDENTFLOW_WORKER_METRICS_PORT: String(ports.INCIDENTFLOW_WORKER_METRICS_PORT),
    });
    const child = spawn('npm', ['start'], {
      cwd: clone,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, as a terminal gives it: Ctrl-C signals the whole group.
      detached: true,
    });
    npmStart = child;
    const pgid = child.pid!;
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));

    const api = `http://127.0.0.1:${ports.PORT}`;
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}`);
        const res = await fetch(`${api}/readyz`);
        return res.status === 200 ? true : undefined;
      },
      300_000,
      'GET /readyz to answer 200',
    ).catch((err: Error) => {
      throw new Error(err.message + logTail());
    });
    expect(output).not.toContain('installing npm packages');

    const demo = execFileSync('npm', ['run', '--silent', 'demo'], {
      cwd: clone,
      env: { ...env, INCIDENTFLOW_API_URL: api },
      encoding: 'utf8',
    });
    expect(demo).toContain('POST /api/v1/alerts/alertmanager → 202');
    const incidentId = /"incidentId": "([^"]+)"/.exec(demo)?.[1];
    expect(incidentId).toBe('incident:customer_etl:failure_rate/customer_etl');

    const listed = await eventually(
      async () => {
        const res = await fetch(`${api}/api/v1/incidents`);
        const { incidents } = (await res.json()) as { incidents: IncidentSummary[] };
        return incidents.find((i) => i.incidentId === incidentId);
      },
      120_000,
      'the demo incident in GET /api/v1/incidents',
    );
    expect(listed).toMatchObject({ executionStatus: 'RUNNING', service: 'customer_etl' });
    // The incident reached the local Slack double that npm start runs.
    await eventually(
      async () => {
        const res = await fetch(`http://127.0.0.1:${ports.SLACK_DOUBLE_PORT}/_double/messages`);
        return JSON.stringify(await res.json()).includes('customer_etl') ? true : undefined;
      },
      120_000,
      'the incident message at the Slack double',
    );

    // Everything npm start runs, and every port it listens on (including the dev server's own random ones).
    const processes = descendantsOf(pgid);
    const listening = listeningPortsOf([pgid, ...processes]);
    expect(listening).toEqual(expect.arrayContaining(Object.values(ports)));

    process.kill(-pgid, 'SIGINT');
    await eventually(
      () => {
        const left = [...processGroupMembers(pgid), ...processes.filter(isAlive)];
        return Promise.resolve(left.length === 0 ? true : undefined);
      },
      180_000,
      'every process of npm start to exit',
    ).catch((err: Error) => {
      throw new Error(`${err.message}; left: ${processes.filter(isAlive).join(', ')}${logTail()}`);
    });
    expect(portsStillListening(listening)).toEqual([]);
    expect(output).toContain('[start] SIGINT: stopping');
  });
});
