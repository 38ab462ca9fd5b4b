import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { createDataQualityActivities } from '../../src/activities/data-quality.activities';
import { systemClock } from '../../src/activities/clock';
import {
  type CheckResultStore,
  createMemoryCheckResultStore,
  createSqlCheckResultStore,
} from '../../src/adapters/check-result-store';
import { runCheckSetQueries } from '../../src/adapters/postgres-checks';
import { CheckSet, type CheckSetResult } from '../../src/domain/data-quality';
import { checkResultStoreContract } from '../helpers/check-result-store-contract';

const url = process.env.TEST_DATABASE_URL;
if (!url) {
  throw new Error(
    'TEST_DATABASE_URL is not set: these tests need a real PostgreSQL server, e.g. eval "$(bash scripts/ci-postgres.sh)"',
  );
}
const databaseUrl: string = url;

const schema = `dq_${randomBytes(5).toString('hex')}`;
let admin: Pool;

beforeAll(async () => {
  admin = new Pool({ connectionString: databaseUrl, max: 2 });
  await admin.query(`CREATE SCHEMA ${schema}`);
});

afterAll(async () => {
  await admin?.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin?.end();
});

/** A fresh table per test: `id`, `email`, `updated_at` and `n` rows updated `ageSql` ago. */
async function customers(table: string, rows: number, ageSql = "interval '1 minute'"): Promise<void> {
  await admin.query(`CREATE TABLE ${schema}.${table} (id integer, email text, updated_at timestamptz)`);
  await admin.query(
    `INSERT INTO ${schema}.${table} SELECT i, 'user' || i || '@example.com', now() - ${ageSql}
       FROM generate_series(1, $1) AS i`,
    [rows],
  );
}

function checkSet(table: string, checks: unknown[], extra: Record<string, unknown> = {}): CheckSet {
  return CheckSet.parse({
    name: 'test_set',
    data_source: { connection_env: 'DQ_TEST_DATABASE_URL' },
    table: `${schema}.${table}`,
    schedule: '@hourly',
    checks,
    ...extra,
  });
}

/** Runs a check set through the activity (measure, evaluate, store), as the workflow does. */
async function run(
  set: CheckSet,
  options: {
    store?: CheckResultStore;
    runKey?: string;
    env?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<CheckSetResult> {
  const activities = createDataQualityActivities({
    checkSets: () => ({ [set.name]: set }),
    env: (name) => (options.env ?? { DQ_TEST_DATABASE_URL: databaseUrl })[name],
    results: options.store ?? createMemoryCheckResultStore(),
    clock: systemClock,
    ...(options.timeoutMs === undefined ? {} : { statementTimeoutMs: options.timeoutMs }),
  });
  return activities.runDataQualityChecks({
    checkSet: set.name,
    runKey: options.runKey ?? randomBytes(4).toString('hex'),
  });
}

const schemaCheck = {
  schema: {
    fail: {
      'when required column missing': ['id', 'email', 'updated_at'],
      'when wrong column type': { id: 'integer', updated_at: 'timestamp with time zone' },
    },
  },
};

describe('data-quality checks on PostgreSQL', () => {
  it('passes a fresh table with the expected shape and volume', async () => {
    await customers('fresh', 12);
    const result = await run(
      checkSet('fresh', ['row_count between 10 and 20', 'freshness(updated_at) < 1h', schemaCheck]),
    );
    expect(result.outcome).toBe('pass');
    expect(result.table).toBe(`${schema}.fresh`);
    expect(result.results.map((r) => [r.checkId, r.outcome, r.actual])).toEqual([
      ['row_count between 10 and 20', 'pass', 12],
      ['freshness(updated_at) < 1h', 'pass', expect.any(Number)],
      ['schema', 'pass', undefined],
    ]);
    expect(result.results[1]!.actual).toBeGreaterThanOrEqual(59);
    expect(result.results[1]!.actual).toBeLessThan(120);
  });

  it('fails freshness on a stale table and reports its age', async () => {
    await customers('stale', 3, "interval '3 hours 12 minutes'");
    const result = await run(checkSet('stale', ['freshness(updated_at) < 2h']));
    expect(result.outcome).toBe('fail');
    expect(result.results[0]!.message).toMatch(
      /^freshness\(updated_at\) is 3h12m(\d+s)?, above the fail threshold 2h$/,
    );
  });

  it('fails freshness on an empty table', async () => {
    await customers('empty', 0);
    const result = await run(checkSet('empty', ['freshness(updated_at) < 2h']));
    expect(result.results[0]).toMatchObject({ outcome: 'fail', message: 'no rows: freshness unknown' });
  });

  it('fails the schema check naming a dropped column', async () => {
    await customers('dropped', 3);
    await admin.query(`ALTER TABLE ${schema}.dropped DROP COLUMN email`);
    const result = await run(checkSet('dropped', [schemaCheck]));
    expect(result.outcome).toBe('fail');
    expect(result.results[0]!.message).toBe('required column missing: email');
  });

  it('fails a row count out of range with actual and expected values', async () => {
    await customers('small', 5);
    const result = await run(checkSet('small', ['row_count between 10 and 20']));
    expect(result.results[0]).toMatchObject({
      outcome: 'fail',
      actual: 5,
      expected: 'between 10 and 20',
      message: 'row_count 5 is not between 10 and 20',
    });
  });

  it('treats a warn-level breach as a warning', async () => {
    await customers('late', 3, "interval '2 hours'");
    const result = await run(
      checkSet('late', [
        'row_count > 0',
        { 'freshness(updated_at)': { warn: 'when > 1h', fail: 'when > 6h' } },
      ]),
    );
    expect(result.outcome).toBe('warn');
    expect(result.results[1]!.message).toMatch(
      /^freshness\(updated_at\) is 2h(\d+s)?, above the warn threshold 1h$/,
    );
  });

  it('reports an unreachable database as an error without revealing the password', async () => {
    const set = checkSet('fresh', ['row_count > 0']);
    const result = await run(set, {
      env: { DQ_TEST_DATABASE_URL: 'postgres://reader:s3cretpw@127.0.0.1:1/warehouse' },
    });
    expect(result.outcome).toBe('error');
    expect(result.error?.kind).toBe('unreachable');
    expect(result.error?.message).toMatch(/^cannot connect to 127\.0\.0\.1:1\/warehouse: .*ECONNREFUSED/);
    expect(JSON.stringify(result)).not.toContain('s3cretpw');
    expect(result.results[0]).toMatchObject({
      outcome: 'error',
      message: `not run: ${result.error?.message}`,
    });
  });

  it('reports an unset connection variable as an error', async () => {
    const result = await run(checkSet('fresh', ['row_count > 0']), { env: {} });
    expect(result.error).toEqual({
      kind: 'not_configured',
      message: 'environment variable DQ_TEST_DATABASE_URL is not set',
    });
  });

  it('reports a missing table as an error, not a failed check', async () => {
    const result = await run(checkSet('no_such_table', ['row_count > 0']));
    expect(result.outcome).toBe('error');
    expect(result.error).toEqual({
      kind: 'table_missing',
      message: `relation ${schema}.no_such_table does not exist`,
    });
  });

  it('runs in a read-only transaction that refuses writes', async () => {
    await customers('guarded', 2);
    await admin.query(`CREATE TABLE ${schema}.audit (at timestamptz)`);
    // A view whose filter calls a function that writes: counting it would insert into audit.
    await admin.query(
      `CREATE FUNCTION ${schema}.sneaky() RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
         BEGIN INSERT INTO ${schema}.audit VALUES (now()); RETURN 1; END $$`,
    );
    await admin.query(
      `CREATE VIEW ${schema}.sneaky_view AS SELECT * FROM ${schema}.guarded WHERE ${schema}.sneaky() = 1`,
    );
    const outcome = await runCheckSetQueries(databaseUrl, checkSet('sneaky_view', ['row_count > 0']));
    expect(outcome).toEqual({
      ok: false,
      error: {
        kind: 'read_only_violation',
        message:
          'a write was refused by the read-only transaction: cannot execute INSERT in a read-only transaction',
      },
    });
    const audit = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.audit`);
    expect(audit.rows[0].n).toBe(0);
  });

  it('bounds a slow query with the statement timeout', async () => {
    await customers('base', 1);
    await admin.query(`CREATE VIEW ${schema}.slow AS SELECT b.* FROM ${schema}.base b, pg_sleep(5)`);
    const started = Date.now();
    const result = await run(checkSet('slow', ['row_count > 0']), { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.error).toEqual({
      kind: 'timeout',
      message: 'a query ran longer than the statement timeout of 300ms and was cancelled',
    });
  });

  it('quotes identifiers with quotes, spaces and upper case, and passes values as parameters', async () => {
    await admin.query(`CREATE TABLE ${schema}."Odd ""Quoted"" Name" ("Updated At" timestamptz, "Kind" text)`);
    await admin.query(
      `INSERT INTO ${schema}."Odd ""Quoted"" Name" VALUES (now(), 'a'), (now(), $1), (now() - interval '2 days', 'a')`,
      ["x'); DROP TABLE audit; --"],
    );
    const set = checkSet(
      '"Odd ""Quoted"" Name"',
      [
        'row_count = 1',
        'freshness("Updated At") < 1h',
        { schema: { fail: { 'when required column missing': ['Updated At', 'Kind'] } } },
      ],
      {
        where: [
          { column: 'Kind', op: '=', value: "x'); DROP TABLE audit; --" },
          { column: 'Updated At', op: '>', ago: '1d' },
        ],
      },
    );
    const result = await run(set);
    expect(result.table).toBe(`${schema}."Odd ""Quoted"" Name"`);
    expect(result.results.map((r) => [r.outcome, r.message])).toEqual([
      ['pass', 'row_count 1 is = 1'],
      ['pass', expect.stringMatching(/^freshness\("Updated At"\) is \d+m?s, within the fail threshold 1h$/)],
      ['pass', 'schema as expected (2 columns)'],
    ]);
  });

  it('measures timestamp without time zone and date columns as UTC', async () => {
    await admin.query(`CREATE TABLE ${schema}.naive (loaded_at timestamp, business_day date)`);
    const thirtyMinutesAgoUtc = new Date(Date.now() - 30 * 60_000).toISOString().replace('Z', '');
    const todayUtc = new Date().toISOString().slice(0, 10);
    await admin.query(`INSERT INTO ${schema}.naive VALUES ($1, $2)`, [thirtyMinutesAgoUtc, todayUtc]);
    const outcome = await runCheckSetQueries(
      databaseUrl,
      checkSet('naive', ['freshness(loaded_at) < 1h', 'freshness(business_day) < 1d']),
    );
    expect(outcome.ok).toBe(true);
    if (!outcome.ok) return;
    const loaded = outcome.measurements.freshness.loaded_at!.ageMs!;
    expect(loaded).toBeGreaterThanOrEqual(30 * 60_000);
    expect(loaded).toBeLessThan(31 * 60_000);
    const midnightUtc = Date.parse(`${todayUtc}T00:00:00Z`);
    expect(
      Math.abs(outcome.measurements.freshness.business_day!.ageMs! - (Date.now() - midnightUtc)),
    ).toBeLessThan(60_000);
  });

  it('compares the row count with the previous run', async () => {
    await customers('growing', 10);
    const set = checkSet('growing', ['row_count change < 10% vs previous']);
    const store = createMemoryCheckResultStore();
    const first = await run(set, { store });
    expect(first.results[0]).toMatchObject({
      outcome: 'pass',
      message: 'row_count 10 recorded; no previous row count to compare with yet',
    });
    await admin.query(`INSERT INTO ${schema}.growing SELECT i, 'x', now() FROM generate_series(1, 5) AS i`);
    const second = await run(set, { store });
    expect(second.results[0]).toMatchObject({
      outcome: 'fail',
      actual: 15,
      message: 'row_count change 50% (15 vs previous 10) is not < 10%',
    });
  });

  it('returns the stored result when a run key is retried', async () => {
    await customers('retried', 4);
    const set = checkSet('retried', ['row_count > 0']);
    const store = createMemoryCheckResultStore();
    const seen: CheckSetResult[] = [];
    const activities = createDataQualityActivities({
      checkSets: () => ({ test_set: set }),
      env: () => databaseUrl,
      results: store,
      clock: systemClock,
      onResult: (r) => seen.push(r),
    });
    const first = await activities.runDataQualityChecks({ checkSet: 'test_set', runKey: 'scheduled-1' });
    await admin.query(`TRUNCATE ${schema}.retried`);
    const again = await activities.runDataQualityChecks({ checkSet: 'test_set', runKey: 'scheduled-1' });
    expect(again).toEqual(first);
    expect(again.results[0]!.actual).toBe(4);
    expect(seen).toHaveLength(1);
    const next = await activities.runDataQualityChecks({ checkSet: 'test_set', runKey: 'scheduled-2' });
    expect(next.outcome).toBe('fail');
  });

  it('rejects an unknown check set without retrying', async () => {
    const activities = createDataQualityActivities({
      checkSets: () => ({}),
      env: () => databaseUrl,
      results: createMemoryCheckResultStore(),
      clock: systemClock,
    });
    await expect(activities.runDataQualityChecks({ checkSet: 'nope', runKey: 'k' })).rejects.toMatchObject({
      type: 'NotFound',
      nonRetryable: true,
      message: 'unknown data-quality check set "nope"',
    });
  });
});

describe('SQL check-result store on PostgreSQL', () => {
  let pool: Pool;
  beforeAll(async () => {
    pool = new Pool({ connectionString: databaseUrl, max: 2, options: `-c search_path=${schema}` });
    await pool.query(
      readFileSync(resolve(__dirname, '../../src/adapters/store/migrations/100_data_quality.sql'), 'utf8'),
    );
  });
  afterAll(async () => {
    await pool?.end();
  });

  describe('store contract', () => {
    checkResultStoreContract(async () => {
      await pool.query('TRUNCATE dq_runs CASCADE');
      return createSqlCheckResultStore(pool);
    });
  });

  it('keeps row-count history across runs and stores each run key once', async () => {
    await customers('stored', 100);
    const store = createSqlCheckResultStore(pool);
    const set = checkSet('stored', ['row_count > 0', 'row_count change < 10% vs avg_3'], {
      name: 'stored_set',
    });
    const runOnce = (runKey: string) => run(set, { store, runKey });
    await runOnce('r1');
    await admin.query(`INSERT INTO ${schema}.stored SELECT i, 'x', now() FROM generate_series(1, 20) AS i`);
    await runOnce('r2');
    const third = await runOnce('r3');
    expect(third.results[1]).toMatchObject({
      outcome: 'pass',
      actual: 120,
      message: 'row_count change 9.09% (120 vs avg of last 2 110) is < 10%',
    });
    expect(
      (await store.previousResults('stored_set', 'row_count change vs avg_3', 5)).map((r) => r.actual),
    ).toEqual([120, 120, 100]);
    expect(await runOnce('r2')).toMatchObject({ runKey: 'r2', results: [{ actual: 120 }, { actual: 120 }] });
    const rows = await pool.query(`SELECT count(*)::int AS n FROM dq_results WHERE check_set = 'stored_set'`);
    expect(rows.rows[0].n).toBe(6);
    expect((await store.recentRuns({ checkSet: 'stored_set', limit: 2 })).map((r) => r.runKey)).toEqual([
      'r3',
      'r2',
    ]);
  });

  it('saves a run that could not run without adding history', async () => {
    const store = createSqlCheckResultStore(pool);
    const set = checkSet('missing', ['row_count change < 10% vs previous'], { name: 'broken_set' });
    const result = await run(set, { store, runKey: 'e1' });
    expect(result.outcome).toBe('error');
    expect(await store.runResult('broken_set', 'e1')).toEqual(result);
    expect(await store.previousResults('broken_set', 'row_count change vs previous', 1)).toEqual([]);
    const saved = await store.save(result);
    expect(saved.inserted).toBe(false);
  });
});
