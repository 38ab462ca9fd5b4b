import { join } from 'node:path';
import type { HistoryOutcome, Hypothesis } from '../../domain/diagnosis';
import {
  type AlertOccurrence,
  type DeploymentRecord,
  formatIncidentNumber,
  type IncidentRecord,
  isIncidentNumber,
  numberingDay,
  type ResolutionOutcome,
  type RunbookOutcome,
  type RunbookRunRecord,
  type StepRecord,
  type StepResult,
  type StoredEvent,
  type StoredIncident,
  type StoredPostmortem,
} from '../../domain/incident-record';
import { type RunbookStats, successRates } from '../../domain/runbook-stats';
import type { TuningData } from '../../domain/tuning-report';
import { DEFAULT_MIGRATIONS_DIR, loadMigrations, runMigrations, STORE_LOCK_NAMESPACE } from './migrate';
import { createPgSql } from './pg-sql';
import { createPgliteSql } from './pglite-sql';
import type { Sql } from './sql';
import type { SimilarIncident, Store, StoreOptions, StoredDiagnosis } from './types';

/**
 * Opens the incident store: a PostgreSQL server when `databaseUrl` is set, else embedded PGlite in
 * `<dataDir>/pglite`. Call `migrate()` before use.
 */
export async function createStore(options: StoreOptions): Promise<Store> {
  const sql = options.databaseUrl
    ? createPgSql(options.databaseUrl, {
        ...(options.schema ? { schema: options.schema } : {}),
        ...(options.poolSize ? { max: options.poolSize } : {}),
        ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}),
      })
    : await createPgliteSql(
        join(options.dataDir, 'pglite'),
        options.schema ? { schema: options.schema } : {},
      );
  return storeOn(sql, options);
}

/** The store on an already open {@link Sql} (the store closes it). */
export function storeOn(sql: Sql, options: Pick<StoreOptions, 'schema' | 'migrationsDir'> = {}): Store {
  return new SqlStore(sql, options);
}

type Row = Record<string, unknown>;

const OPEN_STATUSES_SQL = `('resolved', 'closed')`;
const FINAL_STEP_RESULTS: readonly StepResult[] = [
  'succeeded',
  'failed',
  'skipped',
  'aborted',
  'timed_out',
  'approved',
  'rejected',
];

class SqlStore implements Store {
  readonly driver: 'pglite' | 'postgres';

  constructor(
    private readonly sql: Sql,
    private readonly options: Pick<StoreOptions, 'schema' | 'migrationsDir'>,
  ) {
    this.driver = sql.driver;
  }

  async migrate(): Promise<string[]> {
    const migrations = await loadMigrations(this.options.migrationsDir ?? DEFAULT_MIGRATIONS_DIR);
    return runMigrations(this.sql, migrations, this.options.schema ? { schema: this.options.schema } : {});
  }

  sqlClient(): { query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }> } {
    return { query: async (text, params) => ({ rows: await this.sql.query(text, params) }) };
  }

  async ping(): Promise<void> {
    await this.sql.query('SELECT 1');
  }

  close(): Promise<void> {
    return this.sql.close();
  }

  async allocateIncidentNumber(incidentKey: string, openedAt: string): Promise<string> {
    const existing = await this.numberOf(this.sql, incidentKey);
    if (existing) return existing;
    const day = numberingDay(openedAt);
    return this.sql.transaction(async (tx) => {
      // One allocator per day at a time; numbers stay gapless and a racing call for the same key
      // finds the number the first one wrote.
      await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [
        STORE_LOCK_NAMESPACE,
        Number(day.replace(/-/g, '')),
      ]);
      const again = await this.numberOf(tx, incidentKey);
      if (again) return again;
      const [next] = await tx.query<{ seq: number }>(
        'SELECT COALESCE(MAX(seq), 0)::int + 1 AS seq FROM incident_numbers WHERE day = $1::date',
        [day],
      );
      const number = formatIncidentNumber(day, next?.seq ?? 1);
      await tx.query(
        'INSERT INTO incident_numbers (incident_key, day, seq, number) VALUES ($1, $2::date, $3, $4)',
        [incidentKey, day, next?.seq ?? 1, number],
      );
      await tx.query('UPDATE incidents SET number = $2 WHERE incident_key = $1 AND number IS NULL', [
        incidentKey,
        number,
      ]);
      return number;
    });
  }

  private async numberOf(sql: Pick<Sql, 'query'>, incidentKey: string): Promise<string | undefined> {
    const rows = await sql.query<{ number: string }>(
      'SELECT number FROM incident_numbers WHERE incident_key = $1',
      [incidentKey],
    );
    return rows[0]?.number;
  }

  async upsertIncident(r: IncidentRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO incidents (incident_key, workflow_id, number, incident_type, service, severity, title, dedup_key,
         fingerprints, labels, status, opened_at, acknowledged_at, acknowledged_by, mitigated_at, resolved_at,
         highest_escalation_level, outcome, resolved_by, runbook, root_cause, root_cause_confirmed, fix)
       VALUES ($1, $2, COALESCE($3, (SELECT number FROM incident_numbers WHERE incident_key = $1)), $4, $5, $6, $7, $8,
         $9::jsonb, $10::jsonb, $11, $12::timestamptz, $13::timestamptz, $14, $15::timestamptz, $16::timestamptz,
         $17, $18, $19, $20, $21, $22, $23)
       ON CONFLICT (incident_key) DO UPDATE SET
         number = COALESCE(incidents.number, EXCLUDED.number),
         incident_type = EXCLUDED.incident_type,
         service = EXCLUDED.service,
         severity = EXCLUDED.severity,
         title = EXCLUDED.title,
         dedup_key = EXCLUDED.dedup_key,
         fingerprints = (SELECT COALESCE(jsonb_agg(DISTINCT f ORDER BY f), '[]'::jsonb)
                         FROM jsonb_array_elements_text(incidents.fingerprints || EXCLUDED.fingerprints) AS f),
         labels = incidents.labels || EXCLUDED.labels,
         -- A late write of an open status never reopens a resolved incident, nor un-closes a closed one.
         status = CASE
           WHEN incidents.status = 'closed' THEN incidents.status
           WHEN incidents.status = 'resolved' AND EXCLUDED.status <> 'closed' THEN incidents.status
           ELSE EXCLUDED.status END,
         acknowledged_at = COALESCE(incidents.acknowledged_at, EXCLUDED.acknowledged_at),
         acknowledged_by = COALESCE(incidents.acknowledged_by, EXCLUDED.acknowledged_by),
         mitigated_at = COALESCE(incidents.mitigated_at, EXCLUDED.mitigated_at),
         resolved_at = COALESCE(incidents.resolved_at, EXCLUDED.resolved_at),
         highest_escalation_level = GREATEST(incidents.highest_escalation_level, EXCLUDED.highest_escalation_level),
         outcome = COALESCE(EXCLUDED.outcome, incidents.outcome),
         resolved_by = COALESCE(EXCLUDED.resolved_by, incidents.resolved_by),
         runbook = COALESCE(EXCLUDED.runbook, incidents.runbook),
         -- An unconfirmed cause (the top hypothesis) never replaces one a person confirmed.
         root_cause = CASE
           WHEN EXCLUDED.root_cause IS NULL OR (incidents.root_cause_confirmed AND NOT EXCLUDED.root_cause_confirmed)
           THEN incidents.root_cause ELSE EXCLUDED.root_cause END,
         root_cause_confirmed = CASE
           WHEN EXCLUDED.root_cause IS NULL OR (incidents.root_cause_confirmed AND NOT EXCLUDED.root_cause_confirmed)
           THEN incidents.root_cause_confirmed ELSE EXCLUDED.root_cause_confirmed END,
         fix = COALESCE(EXCLUDED.fix, incidents.fix),
         updated_at = now()`,
      [
        r.incidentKey,
        r.workflowId,
        r.number,
        r.incidentType,
        r.service,
        r.severity,
        r.title,
        r.dedupKey,
        JSON.stringify([...new Set(r.fingerprints ?? [])].sort()),
        JSON.stringify(r.labels ?? {}),
        r.status,
        r.openedAt,
        r.acknowledgedAt,
        r.acknowledgedBy,
        r.mitigatedAt,
        r.resolvedAt,
        r.highestEscalationLevel ?? 0,
        r.outcome,
        r.resolvedBy,
        r.runbook,
        r.rootCause,
        r.rootCause !== undefined && r.rootCauseConfirmed === true,
        r.fix,
      ],
    );
  }

  async upsertStep(record: StepRecord): Promise<void> {
    await this.upsertSteps([record]);
  }

  async upsertSteps(records: readonly StepRecord[]): Promise<void> {
    if (records.length === 0) return;
    const byKey = new Map<string, StepRecord>();
    for (const s of records) byKey.set(`${s.incidentKey}\u0000${s.stepId}\u0000${s.attemptGroup ?? 0}`, s);
    const rows = [...byKey.values()].map((s) => ({
      incident_key: s.incidentKey,
      step_id: s.stepId,
      attempt_group: s.attemptGroup ?? 0,
      runbook: s.runbook,
      name: s.name ?? null,
      kind: s.kind ?? null,
      action: s.action ?? null,
      attempts: s.attempts,
      result: s.result,
      error: s.error ?? null,
      actor: s.actor ?? null,
      started_at: s.startedAt ?? null,
      finished_at: s.finishedAt ?? null,
    }));
    await this.sql.query(
      `INSERT INTO incident_steps (incident_key, step_id, attempt_group, runbook, name, kind, action, attempts, result,
         error, actor, started_at, finished_at)
       SELECT s.incident_key, s.step_id, s.attempt_group, s.runbook, s.name, s.kind, s.action, s.attempts, s.result,
         s.error, COALESCE(s.actor, 'automation'), s.started_at, s.finished_at
       FROM jsonb_to_recordset($1::jsonb) AS s(incident_key text, step_id text, attempt_group int, runbook text,
         name text, kind text, action text, attempts int, result text, error text, actor text,
         started_at timestamptz, finished_at timestamptz)
       ON CONFLICT (incident_key, step_id, attempt_group) DO UPDATE SET
         runbook = EXCLUDED.runbook,
         name = COALESCE(EXCLUDED.name, incident_steps.name),
         kind = COALESCE(EXCLUDED.kind, incident_steps.kind),
         action = COALESCE(EXCLUDED.action, incident_steps.action),
         attempts = GREATEST(incident_steps.attempts, EXCLUDED.attempts),
         -- A late "running" write never replaces a final result.
         result = CASE WHEN incident_steps.result IN (SELECT jsonb_array_elements_text($2::jsonb))
                        AND EXCLUDED.result IN ('running', 'waiting')
                       THEN incident_steps.result ELSE EXCLUDED.result END,
         error = CASE WHEN incident_steps.result IN (SELECT jsonb_array_elements_text($2::jsonb))
                       AND EXCLUDED.result IN ('running', 'waiting')
                      THEN incident_steps.error ELSE EXCLUDED.error END,
         actor = CASE WHEN EXCLUDED.actor = 'automation' THEN incident_steps.actor ELSE EXCLUDED.actor END,
         started_at = COALESCE(incident_steps.started_at, EXCLUDED.started_at),
         finished_at = COALESCE(EXCLUDED.finished_at, incident_steps.finished_at),
         updated_at = now()`,
      [JSON.stringify(rows), JSON.stringify(FINAL_STEP_RESULTS)],
    );
  }

  async appendEvents(incidentKey: string, events: readonly StoredEvent[]): Promise<void> {
    if (events.length === 0) return;
    const bySeq = new Map<number, StoredEvent>();
    for (const e of events) bySeq.set(e.seq, e);
    const rows = [...bySeq.values()].map((e) => ({
      seq: e.seq,
      at: e.at,
      kind: e.kind,
      text: e.text,
      actor: e.actor ?? null,
      data: e.data ?? null,
    }));
    await this.sql.query(
      `INSERT INTO incident_events (incident_key, seq, at, kind, text, actor, data)
       SELECT $1, e.seq, e.at, e.kind, e.text, e.actor, e.data
       FROM jsonb_to_recordset($2::jsonb) AS e(seq int, at timestamptz, kind text, text text, actor text, data jsonb)
       ON CONFLICT (incident_key, seq) DO UPDATE SET
         at = EXCLUDED.at, kind = EXCLUDED.kind, text = EXCLUDED.text, actor = EXCLUDED.actor, data = EXCLUDED.data`,
      [incidentKey, JSON.stringify(rows)],
    );
  }

  async recordAlerts(incidentKey: string, alerts: readonly AlertOccurrence[]): Promise<void> {
    if (alerts.length === 0) return;
    const byFp = new Map<string, AlertOccurrence>();
    for (const a of alerts) byFp.set(a.fingerprint, a);
    const rows = [...byFp.values()].map((a) => ({
      fingerprint: a.fingerprint,
      name: a.name,
      source: a.source ?? null,
      severity: a.severity ?? null,
      labels: a.labels,
      first_fired_at: a.firstFiredAt,
      last_fired_at: a.lastFiredAt ?? a.firstFiredAt,
      resolved_at: a.resolvedAt ?? null,
      refires: a.refires,
      action_taken: a.actionTaken ?? false,
    }));
    await this.sql.query(
      `INSERT INTO alerts (incident_key, fingerprint, name, source, severity, labels, first_fired_at, last_fired_at,
         resolved_at, refires, action_taken)
       SELECT $1, a.fingerprint, a.name, a.source, a.severity, COALESCE(a.labels, '{}'::jsonb), a.first_fired_at,
         a.last_fired_at, a.resolved_at, a.refires, a.action_taken
       FROM jsonb_to_recordset($2::jsonb) AS a(fingerprint text, name text, source text, severity text, labels jsonb,
         first_fired_at timestamptz, last_fired_at timestamptz, resolved_at timestamptz, refires int,
         action_taken boolean)
       ON CONFLICT (incident_key, fingerprint) DO UPDATE SET
         name = EXCLUDED.name,
         source = COALESCE(EXCLUDED.source, alerts.source),
         severity = COALESCE(EXCLUDED.severity, alerts.severity),
         labels = EXCLUDED.labels,
         first_fired_at = LEAST(alerts.first_fired_at, EXCLUDED.first_fired_at),
         last_fired_at = GREATEST(alerts.last_fired_at, EXCLUDED.last_fired_at),
         resolved_at = EXCLUDED.resolved_at,
         refires = GREATEST(alerts.refires, EXCLUDED.refires),
         action_taken = alerts.action_taken OR EXCLUDED.action_taken`,
      [incidentKey, JSON.stringify(rows)],
    );
  }

  async recordDeployment(d: DeploymentRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO deployments (service, version, deployed_at, description, source)
       VALUES ($1, $2, $3::timestamptz, $4, $5)
       ON CONFLICT (service, version, deployed_at) DO UPDATE SET
         description = COALESCE(EXCLUDED.description, deployments.description),
         source = COALESCE(EXCLUDED.source, deployments.source)`,
      [d.service, d.version, d.at, d.description, d.source],
    );
  }

  async recentDeployments(
    services: string | readonly string[],
    sinceMs: number,
    untilMs: number,
  ): Promise<DeploymentRecord[]> {
    const list = typeof services === 'string' ? [services] : [...services];
    const rows = await this.sql.query(
      `SELECT service, version, deployed_at, description, source FROM deployments
       WHERE service IN (SELECT jsonb_array_elements_text($1::jsonb))
         AND deployed_at >= $2::timestamptz AND deployed_at <= $3::timestamptz
       ORDER BY deployed_at DESC, service, version
       LIMIT 100`,
      [JSON.stringify(list), iso(sinceMs), iso(untilMs)],
    );
    return rows.map((r) => ({
      service: str(r.service),
      version: str(r.version),
      at: time(r.deployed_at),
      ...opt('description', optStr(r.description)),
      ...opt('source', optStr(r.source)),
    }));
  }

  async similarIncidents(query: {
    incidentType: string;
    service: string;
    fingerprint?: string;
    fingerprints?: readonly string[];
    excludeIncidentKey?: string;
    limit?: number;
  }): Promise<SimilarIncident[]> {
    const fps = [
      ...new Set([...(query.fingerprints ?? []), ...(query.fingerprint ? [query.fingerprint] : [])]),
    ];
    const rows = await this.sql.query(
      `SELECT i.*, (i.fingerprints ?| ARRAY(SELECT jsonb_array_elements_text($3::jsonb))) AS fingerprint_match,
         rr.outcome AS runbook_outcome
       FROM incidents i
       LEFT JOIN LATERAL (
         SELECT r.outcome FROM runbook_runs r WHERE r.incident_key = i.incident_key
         ORDER BY r.finished_at DESC, r.runbook LIMIT 1
       ) rr ON true
       WHERE i.resolved_at IS NOT NULL
         AND i.incident_key <> COALESCE($4, '')
         AND ((i.incident_type = $1 AND i.service = $2)
              OR i.fingerprints ?| ARRAY(SELECT jsonb_array_elements_text($3::jsonb)))
       ORDER BY fingerprint_match DESC, i.opened_at DESC, i.incident_key
       LIMIT $5`,
      [query.incidentType, query.service, JSON.stringify(fps), query.excludeIncidentKey, query.limit ?? 20],
    );
    return rows.map((r) => ({
      incidentKey: str(r.incident_key),
      ...opt('number', optStr(r.number)),
      incidentType: str(r.incident_type),
      service: str(r.service),
      openedAt: time(r.opened_at),
      ...opt('resolvedAt', optTime(r.resolved_at)),
      ...opt('ttrSeconds', optNum(r.ttr_seconds)),
      ...opt('outcome', optStr(r.outcome) as ResolutionOutcome | undefined),
      ...opt('resolvedBy', optStr(r.resolved_by)),
      ...opt('runbook', optStr(r.runbook)),
      ...opt('rootCause', optStr(r.root_cause)),
      rootCauseConfirmed: r.root_cause_confirmed === true,
      ...opt('fix', optStr(r.fix)),
      ...opt('runbookOutcome', optStr(r.runbook_outcome) as RunbookOutcome | undefined),
      fingerprintMatch: r.fingerprint_match === true,
    }));
  }

  async recordRunbookRun(run: RunbookRunRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO runbook_runs (incident_key, runbook, incident_type, outcome, finished_at)
       VALUES ($1, $2, $3, $4, $5::timestamptz)
       ON CONFLICT (incident_key, runbook) DO UPDATE SET
         incident_type = EXCLUDED.incident_type, outcome = EXCLUDED.outcome, finished_at = EXCLUDED.finished_at`,
      [run.incidentKey, run.runbook, run.incidentType, run.outcome, run.finishedAt],
    );
  }

  async runbookStats(
    query: { runbook?: string; incidentType?: string; lastN?: number } = {},
  ): Promise<RunbookStats> {
    const rows = await this.sql.query(
      `SELECT runbook, incident_type, outcome, finished_at FROM (
         SELECT r.*, row_number() OVER (PARTITION BY r.runbook ORDER BY r.finished_at DESC, r.incident_key) AS rn
         FROM runbook_runs r
         WHERE ($1::text IS NULL OR r.runbook = $1) AND ($2::text IS NULL OR r.incident_type = $2)
       ) x WHERE rn <= $3`,
      [query.runbook, query.incidentType, query.lastN ?? 50],
    );
    return successRates(
      rows.map((r) => ({
        runbook: str(r.runbook),
        incidentType: str(r.incident_type),
        outcome: str(r.outcome) as RunbookOutcome,
        finishedAtMs: Date.parse(time(r.finished_at)),
      })),
    );
  }

  async causeFixOutcomes(cause: string | readonly string[], limit = 500): Promise<HistoryOutcome[]> {
    const causes = typeof cause === 'string' ? [cause] : [...cause];
    const rows = await this.sql.query(
      `SELECT cause, fix, success FROM (
         SELECT i.root_cause AS cause, r.runbook AS fix, (r.outcome = 'success') AS success, r.finished_at AS at
         FROM runbook_runs r JOIN incidents i ON i.incident_key = r.incident_key
         WHERE i.root_cause IN (SELECT jsonb_array_elements_text($1::jsonb)) AND r.outcome <> 'aborted'
         UNION ALL
         SELECT i.root_cause, NULL, true, i.resolved_at
         FROM incidents i
         WHERE i.root_cause IN (SELECT jsonb_array_elements_text($1::jsonb))
           AND i.outcome = 'resolved_manually'
           AND NOT EXISTS (SELECT 1 FROM runbook_runs r WHERE r.incident_key = i.incident_key)
       ) o ORDER BY at DESC NULLS LAST LIMIT $2`,
      [JSON.stringify(causes), limit],
    );
    return rows.map((r) => ({
      cause: str(r.cause),
      ...opt('fix', optStr(r.fix)),
      success: r.success === true,
    }));
  }

  async saveDiagnosis(d: StoredDiagnosis): Promise<void> {
    await this.sql.query(
      `INSERT INTO diagnoses (incident_key, diagnosis_id, at, hypotheses, signatures_version)
       VALUES ($1, $2, $3::timestamptz, $4::jsonb, $5)
       ON CONFLICT (incident_key, diagnosis_id) DO UPDATE SET
         at = EXCLUDED.at, hypotheses = EXCLUDED.hypotheses, signatures_version = EXCLUDED.signatures_version`,
      [d.incidentKey, d.diagnosisId, d.at, JSON.stringify(d.hypotheses), d.signaturesVersion],
    );
  }

  async latestDiagnosis(incidentKey: string): Promise<StoredDiagnosis | undefined> {
    const [r] = await this.sql.query(
      `SELECT * FROM diagnoses WHERE incident_key = $1 ORDER BY at DESC, diagnosis_id LIMIT 1`,
      [incidentKey],
    );
    if (!r) return undefined;
    return {
      incidentKey: str(r.incident_key),
      diagnosisId: str(r.diagnosis_id),
      at: time(r.at),
      hypotheses: r.hypotheses as Hypothesis[],
      signaturesVersion: Number(r.signatures_version),
    };
  }

  async savePostmortem(p: { incidentKey: string; markdown: string; generatedAt: string }): Promise<void> {
    await this.sql.query(
      `INSERT INTO postmortems (incident_key, markdown, generated_at) VALUES ($1, $2, $3::timestamptz)
       ON CONFLICT (incident_key) DO UPDATE SET
         markdown = EXCLUDED.markdown,
         updated_at = CASE WHEN postmortems.markdown = EXCLUDED.markdown THEN postmortems.updated_at ELSE now() END`,
      [p.incidentKey, p.markdown, p.generatedAt],
    );
  }

  async getPostmortem(idOrNumber: string): Promise<StoredPostmortem | undefined> {
    const key = await this.resolveKey(idOrNumber);
    if (!key) return undefined;
    const [r] = await this.sql.query(
      `SELECT p.*, COALESCE(i.number, n.number) AS number FROM postmortems p
       LEFT JOIN incidents i ON i.incident_key = p.incident_key
       LEFT JOIN incident_numbers n ON n.incident_key = p.incident_key
       WHERE p.incident_key = $1`,
      [key],
    );
    return r ? postmortemFrom(r) : undefined;
  }

  async markPostmortemReviewed(
    idOrNumber: string,
    reviewer: string,
    at: string,
  ): Promise<StoredPostmortem | undefined> {
    const key = await this.resolveKey(idOrNumber);
    if (!key) return undefined;
    await this.sql.query(
      `UPDATE postmortems SET reviewed_at = COALESCE(reviewed_at, $2::timestamptz), reviewer = COALESCE(reviewer, $3)
       WHERE incident_key = $1`,
      [key, at, reviewer],
    );
    return this.getPostmortem(key);
  }

  async getIncident(idOrNumber: string): Promise<StoredIncident | undefined> {
    const key = await this.resolveKey(idOrNumber);
    if (!key) return undefined;
    const [r] = await this.sql.query(`${INCIDENT_SELECT} WHERE i.incident_key = $1`, [key]);
    return r ? incidentFrom(r) : undefined;
  }

  /** Incident key of an incident key, number or workflow id (the workflow's latest incident). */
  private async resolveKey(idOrNumber: string): Promise<string | undefined> {
    const rows = await this.sql.query<{ incident_key: string }>(
      isIncidentNumber(idOrNumber)
        ? `SELECT incident_key FROM incident_numbers WHERE number = $1
           UNION ALL SELECT incident_key FROM incidents WHERE number = $1 LIMIT 1`
        : `SELECT incident_key FROM (
             SELECT incident_key, 0 AS rank, opened_at FROM incidents WHERE incident_key = $1
             UNION ALL SELECT incident_key, 1, opened_at FROM incidents WHERE workflow_id = $1
           ) k ORDER BY rank, opened_at DESC LIMIT 1`,
      [idOrNumber],
    );
    if (rows[0]) return rows[0].incident_key;
    // A postmortem may exist for a key whose incident row was never written.
    const pm = await this.sql.query<{ incident_key: string }>(
      'SELECT incident_key FROM postmortems WHERE incident_key = $1',
      [idOrNumber],
    );
    return pm[0]?.incident_key;
  }

  async getIncidentEvents(incidentKey: string): Promise<StoredEvent[]> {
    const rows = await this.sql.query('SELECT * FROM incident_events WHERE incident_key = $1 ORDER BY seq', [
      incidentKey,
    ]);
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: time(r.at),
      kind: str(r.kind),
      text: str(r.text),
      ...opt('actor', optStr(r.actor)),
      ...(r.data ? { data: r.data as StoredEvent['data'] } : {}),
    }));
  }

  async getIncidentSteps(incidentKey: string): Promise<StepRecord[]> {
    const rows = await this.sql.query(
      `SELECT * FROM incident_steps WHERE incident_key = $1
       ORDER BY COALESCE(started_at, finished_at) NULLS LAST, attempt_group, step_id`,
      [incidentKey],
    );
    return rows.map((r) => ({
      incidentKey: str(r.incident_key),
      stepId: str(r.step_id),
      attemptGroup: Number(r.attempt_group),
      runbook: str(r.runbook),
      ...opt('name', optStr(r.name)),
      ...opt('kind', optStr(r.kind)),
      ...opt('action', optStr(r.action)),
      attempts: Number(r.attempts),
      result: str(r.result) as StepResult,
      ...opt('error', optStr(r.error)),
      actor: str(r.actor),
      ...opt('startedAt', optTime(r.started_at)),
      ...opt('finishedAt', optTime(r.finished_at)),
    }));
  }

  async listIncidents(
    query: { status?: 'open' | 'resolved' | 'all'; limit?: number; service?: string } = {},
  ): Promise<StoredIncident[]> {
    const status = query.status ?? 'all';
    const filter =
      status === 'open'
        ? `i.status NOT IN ${OPEN_STATUSES_SQL}`
        : status === 'resolved'
          ? `i.status IN ${OPEN_STATUSES_SQL}`
          : 'true';
    const rows = await this.sql.query(
      `${INCIDENT_SELECT} WHERE ${filter} AND ($1::text IS NULL OR i.service = $1)
       ORDER BY i.opened_at DESC, i.incident_key LIMIT $2`,
      [query.service, query.limit ?? 50],
    );
    return rows.map(incidentFrom);
  }

  async tuningData(query: { fromMs: number; toMs: number }): Promise<TuningData> {
    const from = iso(query.fromMs);
    const to = iso(query.toMs);
    const alerts = await this.sql.query(
      `SELECT a.fingerprint, a.name, a.incident_key, a.first_fired_at, a.resolved_at, a.refires,
         i.incident_type, i.service, i.runbook,
         (a.action_taken
          OR i.outcome IN ('resolved_by_runbook', 'resolved_manually')
          OR EXISTS (SELECT 1 FROM incident_steps s WHERE s.incident_key = a.incident_key AND s.kind = 'action'
                     AND s.result IN ('succeeded', 'failed', 'timed_out'))) AS action_taken
       FROM alerts a JOIN incidents i ON i.incident_key = a.incident_key
       WHERE a.first_fired_at >= $1::timestamptz AND a.first_fired_at < $2::timestamptz
       ORDER BY a.first_fired_at, a.incident_key, a.fingerprint`,
      [from, to],
    );
    const incidents = await this.sql.query(
      `SELECT incident_key, number, incident_type, service, opened_at, tta_seconds, ttr_seconds, outcome, runbook
       FROM incidents WHERE opened_at >= $1::timestamptz AND opened_at < $2::timestamptz
       ORDER BY opened_at, incident_key`,
      [from, to],
    );
    return {
      from,
      to,
      alerts: alerts.map((r) => ({
        fingerprint: str(r.fingerprint),
        name: str(r.name),
        incidentKey: str(r.incident_key),
        incidentType: str(r.incident_type),
        service: str(r.service),
        ...opt('runbook', optStr(r.runbook)),
        firstFiredAt: time(r.first_fired_at),
        ...opt('resolvedAt', optTime(r.resolved_at)),
        refires: Number(r.refires),
        actionTaken: r.action_taken === true,
      })),
      incidents: incidents.map((r) => ({
        incidentKey: str(r.incident_key),
        ...opt('number', optStr(r.number)),
        incidentType: str(r.incident_type),
        service: str(r.service),
        openedAt: time(r.opened_at),
        ...opt('ttaSeconds', optNum(r.tta_seconds)),
        ...opt('ttrSeconds', optNum(r.ttr_seconds)),
        ...opt('outcome', optStr(r.outcome)),
        ...opt('runbook', optStr(r.runbook)),
      })),
    };
  }
}

const INCIDENT_SELECT = `SELECT i.*, COALESCE(i.number, n.number) AS number_any,
  p.generated_at AS pm_generated_at, p.reviewed_at AS pm_reviewed_at, p.reviewer AS pm_reviewer
  FROM incidents i
  LEFT JOIN incident_numbers n ON n.incident_key = i.incident_key
  LEFT JOIN postmortems p ON p.incident_key = i.incident_key`;

function incidentFrom(r: Row): StoredIncident {
  const pmGenerated = optTime(r.pm_generated_at);
  return {
    incidentKey: str(r.incident_key),
    workflowId: str(r.workflow_id),
    ...opt('number', optStr(r.number_any)),
    incidentType: str(r.incident_type),
    service: str(r.service),
    severity: str(r.severity),
    title: str(r.title),
    dedupKey: str(r.dedup_key),
    fingerprints: (r.fingerprints as string[] | null) ?? [],
    labels: (r.labels as Record<string, string> | null) ?? {},
    status: str(r.status),
    openedAt: time(r.opened_at),
    ...opt('acknowledgedAt', optTime(r.acknowledged_at)),
    ...opt('acknowledgedBy', optStr(r.acknowledged_by)),
    ...opt('mitigatedAt', optTime(r.mitigated_at)),
    ...opt('resolvedAt', optTime(r.resolved_at)),
    ...opt('ttaSeconds', optNum(r.tta_seconds)),
    ...opt('ttrSeconds', optNum(r.ttr_seconds)),
    highestEscalationLevel: Number(r.highest_escalation_level),
    ...opt('outcome', optStr(r.outcome) as ResolutionOutcome | undefined),
    ...opt('resolvedBy', optStr(r.resolved_by)),
    ...opt('runbook', optStr(r.runbook)),
    ...opt('rootCause', optStr(r.root_cause)),
    rootCauseConfirmed: r.root_cause_confirmed === true,
    ...opt('fix', optStr(r.fix)),
    ...(pmGenerated
      ? {
          postmortem: {
            generatedAt: pmGenerated,
            ...opt('reviewedAt', optTime(r.pm_reviewed_at)),
            ...opt('reviewer', optStr(r.pm_reviewer)),
          },
        }
      : {}),
    updatedAt: time(r.updated_at),
  };
}

function postmortemFrom(r: Row): StoredPostmortem {
  return {
    incidentKey: str(r.incident_key),
    ...opt('number', optStr(r.number)),
    markdown: str(r.markdown),
    generatedAt: time(r.generated_at),
    ...opt('reviewedAt', optTime(r.reviewed_at)),
    ...opt('reviewer', optStr(r.reviewer)),
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : String(v);
}

function optStr(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : str(v);
}

function optNum(v: unknown): number | undefined {
  return v === null || v === undefined ? undefined : Number(v);
}

function time(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return new Date(str(v)).toISOString();
}

function optTime(v: unknown): string | undefined {
  return v === null || v === undefined ? undefined : time(v);
}

/** `{ [key]: value }` when value is defined, else `{}` (keeps optional fields absent, not undefined). */
function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
