import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Pool } from 'pg';
import { stringify } from 'yaml';
import { systemClock } from '../../src/activities/clock';
import { createDataQualityAlertActivities } from '../../src/activities/data-quality-alert.activities';
import { createSqlCheckResultStore } from '../../src/adapters/check-result-store';
import type { Store } from '../../src/adapters/store';
import { type AppConfig, loadConfig } from '../../src/config/load-config';
import type { IncidentStarter } from '../../src/ingest/incident-starter';
import { testDatabaseUrl } from './store';

/** The environment variable the test check sets name as their connection (set only in the worker's env). */
export const WAREHOUSE_ENV = 'DQ_TEST_WAREHOUSE_URL';

/**
 * A copy of the shipped config directory whose `checks/` holds only the given check sets (written as
 * YAML, `data_source` defaulting to {@link WAREHOUSE_ENV}), loaded and validated like at start-up.
 */
export function tempConfigDir(checkSets: Array<Record<string, unknown> & { name: string }>): {
  dir: string;
  config: AppConfig;
  cleanup(): void;
} {
  const dir = mkdtempSync(join(tmpdir(), 'incidentflow-config-'));
  cpSync(resolve(__dirname, '../../config'), dir, { recursive: true });
  rmSync(join(dir, 'checks'), { recursive: true, force: true });
  mkdirSync(join(dir, 'checks'));
  for (const set of checkSets) {
    writeFileSync(
      join(dir, 'checks', `${set.name}.yaml`),
      stringify({ data_source: { connection_env: WAREHOUSE_ENV }, schedule: '@hourly', ...set }),
    );
  }
  return { dir, config: loadConfig(dir), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A schema of its own in the TEST_DATABASE_URL database for the checked tables; dropped by `drop()`. */
export async function warehouseSchema(prefix = 'dqw'): Promise<{
  url: string;
  schema: string;
  sql: Pool;
  drop(): Promise<void>;
}> {
  const url = testDatabaseUrl();
  const schema = `${prefix}_${randomBytes(5).toString('hex')}`;
  const sql = new Pool({ connectionString: url, max: 2 });
  await sql.query(`CREATE SCHEMA ${schema}`);
  return {
    url,
    schema,
    sql,
    drop: async () => {
      await sql.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    },
  };
}

/**
 * The data-quality alert activities as the worker's composition root builds them: on the API's incident
 * starter (routing + signal-with-start), the config's check sets and the store's results.
 */
export function dataQualityAlertActivities(starter: IncidentStarter, config: AppConfig, store: Store) {
  return createDataQualityAlertActivities({
    starter,
    checkSets: () => config.checks,
    results: createSqlCheckResultStore(store.sqlClient()),
    clock: systemClock,
  });
}

/** A unique suffix for names shared with the Temporal server (check sets, incidents). */
export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}
