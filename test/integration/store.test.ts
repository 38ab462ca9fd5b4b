import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createStore, loadMigrations, type Store } from '../../src/adapters/store';
import { type IncidentRecord, incidentKeyOf, type StepRecord } from '../../src/domain/incident-record';
import { openTestStore, type StoreDriver, type TestStore } from '../helpers/store';

const OPENED = '2026-11-25T09:17:00.000Z';

function incident(overrides: Partial<IncidentRecord> = {}): IncidentRecord {
  const workflowId = overrides.workflowId ?? 'incident:customer_etl:failrate';
  const openedAt = overrides.openedAt ?? OPENED;
  return {
    incidentKey: incidentKeyOf(workflowId, openedAt),
    workflowId,
    incidentType: 'task_failure_rate',
    service: 'customer_etl',
    severity: 'P2',
    title: 'customer_etl task failure rate above 50%',
    dedupKey: 'failrate',
    status: 'investigating',
    openedAt,
    fingerprints: ['fp-a'],
    ...overrides,
  };
}

function resolved(
  overrides: Partial<IncidentRecord> & { workflowId: string; openedAt: string },
): IncidentRecord {
  return incident({
    status: 'resolved',
    resolvedAt: new Date(Date.parse(overrides.openedAt) + 600_000).toISOString(),
    ...overrides,
  });
}

describe.each<StoreDriver>(['pglite', 'postgres'])('incident store on %s', (driver) => {
  let t: TestStore;
  let store: Store;

  beforeAll(async () => {
    t = await openTestStore(driver);
    store = t.store;
    await store.migrate();
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  describe('migrations', () => {
    it('applies every migration to an empty database, in numeric order', async () => {
      const fresh = await openTestStore(driver);
      try {
        expect(await fresh.store.migrate()).toEqual([
          '001_incidents.sql',
          '002_alerts_deployments.sql',
          '003_learning.sql',
          '004_page_log.sql',
          '005_incident_archive.sql',
          '100_data_quality.sql',
        ]);
      } finally {
        await fresh.cleanup();
      }
    });

    it('does nothing when run again', async () => {
      expect(await store.migrate()).toEqual([]);
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('applies migrations once when two runs race', async () => {
      const fresh = await openTestStore(driver);
      // PGlite is single-process: the race is two calls on one store; on PostgreSQL, two pools.
      const second = driver === 'postgres' ? await createStore(fresh.options) : fresh.store;
      try {
        const results = await Promise.all([fresh.store.migrate(), second.migrate()]);
        const all = (await loadMigrations()).length;
        expect(results.map((r) => r.length).sort((a, b) => a - b)).toEqual([0, all]);
      } finally {
        if (second !== fresh.store) await second.close();
        await fresh.cleanup();
      }
    });

    it('applies files added later in numeric order and refuses an applied file that changed', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'incidentflow-migrations-'));
      const fresh = await openTestStore(driver, { migrationsDir: dir });
      try {
        await writeFile(join(dir, '001_a.sql'), 'CREATE TABLE a (id int);');
        expect(await fresh.store.migrate()).toEqual(['001_a.sql']);
        await writeFile(join(dir, '100_data_quality.sql'), 'CREATE TABLE c (id int REFERENCES b (id));');
        await writeFile(join(dir, '010_b.sql'), 'CREATE TABLE b (id int PRIMARY KEY);');
        expect(await fresh.store.migrate()).toEqual(['010_b.sql', '100_data_quality.sql']);
        await writeFile(join(dir, '001_a.sql'), 'CREATE TABLE a (id bigint);');
        await expect(fresh.store.migrate()).rejects.toThrow(
          'migrations: 001_a.sql changed after it was applied (as 001_a.sql); add a new migration instead',
        );
      } finally {
        await fresh.cleanup();
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('incident numbers', () => {
    it('numbers incidents sequentially per UTC day and restarts the next day', async () => {
      const numbers = [];
      for (const openedAt of ['2026-01-10T08:00:00Z', '2026-01-10T23:59:00Z', '2026-01-11T00:01:00Z']) {
        numbers.push(await store.allocateIncidentNumber(incidentKeyOf('wf-seq', openedAt), openedAt));
      }
      expect(numbers).toEqual(['INC-20260110-001', 'INC-20260110-002', 'INC-20260111-001']);
    });

    it('gives the same incident the same number every time', async () => {
      const key = incidentKeyOf('wf-stable', '2026-01-12T08:00:00Z');
      const first = await store.allocateIncidentNumber(key, '2026-01-12T08:00:00Z');
      await store.allocateIncidentNumber(
        incidentKeyOf('wf-other', '2026-01-12T09:00:00Z'),
        '2026-01-12T09:00:00Z',
      );
      expect(await store.allocateIncidentNumber(key, '2026-01-12T08:00:00Z')).toBe(first);
      expect(first).toBe('INC-20260112-001');
    });

    it('allocates distinct, gapless numbers under concurrent allocation', async () => {
      const day = '2026-01-13T10:00:00Z';
      const keys = Array.from({ length: 12 }, (_, i) => incidentKeyOf(`wf-conc-${i}`, day));
      const numbers = await Promise.all(keys.map((k) => store.allocateIncidentNumber(k, day)));
      expect([...numbers].sort()).toEqual(
        Array.from({ length: 12 }, (_, i) => `INC-20260113-${String(i + 1).padStart(3, '0')}`),
      );
    });

    it('allocates one number when the same incident asks concurrently', async () => {
      const day = '2026-01-14T10:00:00Z';
      const key = incidentKeyOf('wf-same', day);
      const numbers = await Promise.all(
        Array.from({ length: 6 }, () => store.allocateIncidentNumber(key, day)),
      );
      expect(new Set(numbers)).toEqual(new Set(['INC-20260114-001']));
    });

    it('finds an incident by its number once allocated', async () => {
      const r = incident({ workflowId: 'wf-numbered', openedAt: '2026-01-15T10:00:00Z' });
      const number = await store.allocateIncidentNumber(r.incidentKey, r.openedAt);
      await store.upsertIncident(r);
      expect((await store.getIncident(number))?.incidentKey).toBe(r.incidentKey);
      expect((await store.getIncident(r.workflowId))?.number).toBe(number);
    });
  });

  describe('idempotent writes', () => {
    it('keeps one incident row for the same upsert twice', async () => {
      const r = incident({ workflowId: 'wf-twice' });
      await store.upsertIncident(r);
      await store.upsertIncident(r);
      const all = await store.listIncidents({ limit: 1000 });
      expect(all.filter((i) => i.workflowId === 'wf-twice')).toHaveLength(1);
    });

    it('keeps one step row for the same step twice and updates its result', async () => {
      const key = incidentKeyOf('wf-steps', OPENED);
      const step: StepRecord = {
        incidentKey: key,
        stepId: 'rollback',
        runbook: 'dag_deployment_regression',
        kind: 'action',
        attempts: 1,
        result: 'running',
        startedAt: '2026-11-25T09:25:00Z',
      };
      await store.upsertStep(step);
      await store.upsertStep({ ...step, attempts: 2, result: 'succeeded', actor: 'approved by bob' });
      await store.upsertStep({ ...step, attempts: 2, result: 'succeeded', actor: 'approved by bob' });
      await store.upsertStep(step); // a late "running" write
      expect(await store.getIncidentSteps(key)).toEqual([
        {
          incidentKey: key,
          stepId: 'rollback',
          attemptGroup: 0,
          runbook: 'dag_deployment_regression',
          kind: 'action',
          attempts: 2,
          result: 'succeeded',
          actor: 'approved by bob',
          startedAt: '2026-11-25T09:25:00.000Z',
        },
      ]);
    });

    it('keeps a step run again from the start as a separate attempt group', async () => {
      const key = incidentKeyOf('wf-steps-groups', OPENED);
      const base = {
        incidentKey: key,
        stepId: 'retry',
        runbook: 'r',
        attempts: 3,
        result: 'failed' as const,
      };
      await store.upsertSteps([base, { ...base, attemptGroup: 1, attempts: 1, result: 'succeeded' }]);
      expect((await store.getIncidentSteps(key)).map((s) => [s.attemptGroup, s.result])).toEqual([
        [0, 'failed'],
        [1, 'succeeded'],
      ]);
    });

    it('upserts timeline events by sequence number', async () => {
      const key = incidentKeyOf('wf-events', OPENED);
      const events = [
        { seq: 1, at: OPENED, kind: 'alert_firing', text: 'fired', data: { fingerprint: 'fp-a' } },
        { seq: 2, at: '2026-11-25T09:22:00Z', kind: 'diagnosis', text: 'likely pool', actor: 'automation' },
      ];
      await store.appendEvents(key, events);
      await store.appendEvents(key, [
        ...events,
        { seq: 3, at: '2026-11-25T09:35:00Z', kind: 'resolved', text: 'ok' },
      ]);
      const stored = await store.getIncidentEvents(key);
      expect(stored.map((e) => [e.seq, e.kind])).toEqual([
        [1, 'alert_firing'],
        [2, 'diagnosis'],
        [3, 'resolved'],
      ]);
      expect(stored[0]?.data).toEqual({ fingerprint: 'fp-a' });
    });

    it('keeps one deployment for the same marker twice', async () => {
      const d = {
        service: 'svc-dep',
        version: 'v2.3.1',
        at: '2026-11-25T09:15:00Z',
        description: 'pool config',
      };
      await store.recordDeployment(d);
      await store.recordDeployment({ ...d, description: undefined });
      await store.recordDeployment({ service: 'svc-dep', version: 'v2.3.0', at: '2026-11-24T09:15:00Z' });
      const recent = await store.recentDeployments(
        ['svc-dep', 'nothing'],
        Date.parse('2026-11-25T08:45:00Z'),
        Date.parse('2026-11-25T09:17:00Z'),
      );
      expect(recent).toEqual([
        { service: 'svc-dep', version: 'v2.3.1', at: '2026-11-25T09:15:00.000Z', description: 'pool config' },
      ]);
    });

    it('keeps one alert row per fingerprint and keeps its highest refire count', async () => {
      const r = incident({ workflowId: 'wf-alerts', openedAt: '2025-06-01T10:00:00Z' });
      await store.upsertIncident(r);
      const a = { fingerprint: 'fp-1', name: 'A', labels: { x: '1' }, firstFiredAt: r.openedAt, refires: 2 };
      await store.recordAlerts(r.incidentKey, [a]);
      await store.recordAlerts(r.incidentKey, [{ ...a, refires: 1 }]);
      const data = await store.tuningData({
        fromMs: Date.parse('2025-06-01T00:00:00Z'),
        toMs: Date.parse('2025-06-02T00:00:00Z'),
      });
      expect(data.alerts.map((x) => [x.fingerprint, x.refires])).toEqual([['fp-1', 2]]);
    });
  });

  describe('incident merge rules', () => {
    it('never reopens a resolved incident on a late write and keeps the first acknowledgement', async () => {
      const r = incident({ workflowId: 'wf-merge' });
      await store.upsertIncident({ ...r, acknowledgedAt: '2026-11-25T09:19:00Z', acknowledgedBy: 'alice' });
      await store.upsertIncident({
        ...r,
        status: 'resolved',
        resolvedAt: '2026-11-25T09:35:00Z',
        fingerprints: ['fp-b'],
        highestEscalationLevel: 2,
        outcome: 'resolved_by_runbook',
      });
      await store.upsertIncident({
        ...r,
        status: 'mitigating',
        acknowledgedAt: '2026-11-25T09:30:00Z',
        acknowledgedBy: 'bob',
        highestEscalationLevel: 1,
      });
      expect(await store.getIncident(r.incidentKey)).toMatchObject({
        status: 'resolved',
        acknowledgedBy: 'alice',
        acknowledgedAt: '2026-11-25T09:19:00.000Z',
        fingerprints: ['fp-a', 'fp-b'],
        highestEscalationLevel: 2,
        ttaSeconds: 120,
        ttrSeconds: 1080,
        outcome: 'resolved_by_runbook',
      });
    });

    it('does not let an unconfirmed cause replace a confirmed one', async () => {
      const r = incident({ workflowId: 'wf-cause' });
      await store.upsertIncident({ ...r, rootCause: 'deployment_regression', rootCauseConfirmed: true });
      await store.upsertIncident({ ...r, rootCause: 'timeout', rootCauseConfirmed: false });
      expect(await store.getIncident(r.incidentKey)).toMatchObject({
        rootCause: 'deployment_regression',
        rootCauseConfirmed: true,
      });
    });

    it('returns the latest incident of a reused workflow id', async () => {
      await store.upsertIncident(resolved({ workflowId: 'wf-reused', openedAt: '2026-02-01T10:00:00Z' }));
      await store.upsertIncident(incident({ workflowId: 'wf-reused', openedAt: '2026-02-02T10:00:00Z' }));
      expect((await store.getIncident('wf-reused'))?.openedAt).toBe('2026-02-02T10:00:00.000Z');
    });

    it('lists open and resolved incidents separately, newest first', async () => {
      const svc = { service: 'list_svc' };
      const open = incident({ workflowId: 'wf-list-open', openedAt: '2026-02-10T10:00:00Z', ...svc });
      const done = resolved({ workflowId: 'wf-list-done', openedAt: '2026-02-09T10:00:00Z', ...svc });
      const older = resolved({ workflowId: 'wf-list-older', openedAt: '2026-02-08T10:00:00Z', ...svc });
      for (const r of [open, done, older]) await store.upsertIncident(r);
      const keys = async (status: 'open' | 'resolved' | 'all') =>
        (await store.listIncidents({ status, service: 'list_svc' })).map((i) => i.workflowId);
      expect(await keys('open')).toEqual(['wf-list-open']);
      expect(await keys('resolved')).toEqual(['wf-list-done', 'wf-list-older']);
      expect(await keys('all')).toEqual(['wf-list-open', 'wf-list-done', 'wf-list-older']);
    });
  });

  describe('history', () => {
    beforeAll(async () => {
      const svc = { service: 'hist_etl', incidentType: 'task_failure_rate' };
      const rows: Array<[string, string, string | undefined, 'success' | 'failure' | undefined, string[]]> = [
        ['2026-03-01T09:00:00Z', 'deployment_regression', 'dag_deployment_regression', 'success', ['fp-h1']],
        ['2026-03-02T09:00:00Z', 'deployment_regression', 'dag_deployment_regression', 'failure', ['fp-h2']],
        [
          '2026-03-03T09:00:00Z',
          'connection_pool_exhaustion',
          'connection_pool_exhaustion',
          'success',
          ['fp-h3'],
        ],
        ['2026-03-04T09:00:00Z', 'connection_pool_exhaustion', undefined, undefined, ['fp-h4']],
      ];
      for (const [openedAt, cause, runbook, outcome, fingerprints] of rows) {
        const r = resolved({
          workflowId: `wf-hist-${openedAt}`,
          openedAt,
          ...svc,
          fingerprints,
          rootCause: cause,
          rootCauseConfirmed: true,
          ...(runbook
            ? { runbook, outcome: 'resolved_by_runbook' as const }
            : { outcome: 'resolved_manually' as const }),
        });
        await store.upsertIncident(r);
        if (runbook && outcome) {
          await store.recordRunbookRun({
            incidentKey: r.incidentKey,
            runbook,
            incidentType: svc.incidentType,
            outcome,
            finishedAt: r.resolvedAt!,
          });
        }
      }
      // Another service that shares a fingerprint, and a still-open incident of the same service.
      await store.upsertIncident(
        resolved({
          workflowId: 'wf-hist-other',
          openedAt: '2026-02-01T09:00:00Z',
          service: 'billing',
          fingerprints: ['fp-shared'],
        }),
      );
      await store.upsertIncident(
        incident({ workflowId: 'wf-hist-open', openedAt: '2026-03-05T09:00:00Z', ...svc }),
      );
    });

    it('finds resolved incidents of the same type and service, fingerprint matches first, with how they ended', async () => {
      const similar = await store.similarIncidents({
        incidentType: 'task_failure_rate',
        service: 'hist_etl',
        fingerprints: ['fp-shared'],
      });
      expect(
        similar.map((s) => [
          s.service,
          s.openedAt.slice(0, 10),
          s.rootCause,
          s.runbookOutcome,
          s.fingerprintMatch,
        ]),
      ).toEqual([
        ['billing', '2026-02-01', undefined, undefined, true],
        ['hist_etl', '2026-03-04', 'connection_pool_exhaustion', undefined, false],
        ['hist_etl', '2026-03-03', 'connection_pool_exhaustion', 'success', false],
        ['hist_etl', '2026-03-02', 'deployment_regression', 'failure', false],
        ['hist_etl', '2026-03-01', 'deployment_regression', 'success', false],
      ]);
    });

    it('excludes the current incident and honours the limit', async () => {
      const exclude = incidentKeyOf('wf-hist-2026-03-04T09:00:00Z', '2026-03-04T09:00:00Z');
      const similar = await store.similarIncidents({
        incidentType: 'task_failure_rate',
        service: 'hist_etl',
        excludeIncidentKey: exclude,
        limit: 2,
      });
      expect(similar.map((s) => s.openedAt.slice(0, 10))).toEqual(['2026-03-03', '2026-03-02']);
    });

    it('returns cause → fix outcomes of runbook runs and manual fixes', async () => {
      const outcomes = await store.causeFixOutcomes(['deployment_regression', 'connection_pool_exhaustion']);
      expect(outcomes).toEqual([
        { cause: 'connection_pool_exhaustion', success: true },
        { cause: 'connection_pool_exhaustion', fix: 'connection_pool_exhaustion', success: true },
        { cause: 'deployment_regression', fix: 'dag_deployment_regression', success: false },
        { cause: 'deployment_regression', fix: 'dag_deployment_regression', success: true },
      ]);
    });
  });

  describe('runbook stats', () => {
    beforeAll(async () => {
      const outcomes = ['success', 'failure', 'failure', 'success', 'failure', 'failure', 'aborted'] as const;
      for (const [i, outcome] of outcomes.entries()) {
        const openedAt = `2026-04-0${i + 1}T09:00:00Z`;
        await store.recordRunbookRun({
          incidentKey: incidentKeyOf(`wf-rb-${i}`, openedAt),
          runbook: 'raise_pool_stats',
          incidentType: i % 2 === 0 ? 'pool' : 'failrate',
          outcome,
          finishedAt: openedAt,
        });
      }
    });

    it('computes success rates from recorded runs, one row per incident and runbook', async () => {
      await store.recordRunbookRun({
        incidentKey: incidentKeyOf('wf-rb-0', '2026-04-01T09:00:00Z'),
        runbook: 'raise_pool_stats',
        incidentType: 'pool',
        outcome: 'success',
        finishedAt: '2026-04-01T09:00:00Z',
      });
      const stats = await store.runbookStats({ runbook: 'raise_pool_stats' });
      expect(stats.byRunbook).toEqual([
        expect.objectContaining({
          runbook: 'raise_pool_stats',
          runs: 7,
          successes: 2,
          failures: 4,
          aborted: 1,
        }),
      ]);
    });

    it('limits the window to the last N runs and filters by incident type', async () => {
      const lastThree = await store.runbookStats({ runbook: 'raise_pool_stats', lastN: 3 });
      expect(lastThree.byRunbook[0]?.recent).toEqual(['failure', 'failure']);
      const pool = await store.runbookStats({ runbook: 'raise_pool_stats', incidentType: 'pool' });
      expect(pool.byRunbookAndType.map((r) => [r.incidentType, r.runs])).toEqual([['pool', 4]]);
    });
  });

  describe('diagnoses and postmortems', () => {
    it('keeps one diagnosis per id and returns the latest', async () => {
      const key = incidentKeyOf('wf-diag', OPENED);
      const h = { cause: 'timeout', confidence: 0.6, evidence: ['x'], basis: 'b', prior: 0.6 };
      await store.saveDiagnosis({
        incidentKey: key,
        diagnosisId: 'main',
        at: '2026-11-25T09:22:00Z',
        hypotheses: [h],
        signaturesVersion: 1,
      });
      await store.saveDiagnosis({
        incidentKey: key,
        diagnosisId: 'main',
        at: '2026-11-25T09:22:00Z',
        hypotheses: [h],
        signaturesVersion: 1,
      });
      await store.saveDiagnosis({
        incidentKey: key,
        diagnosisId: 'task:etl.load',
        at: '2026-11-25T09:30:00Z',
        hypotheses: [{ ...h, cause: 'disk_full' }],
        signaturesVersion: 1,
      });
      expect(await store.latestDiagnosis(key)).toEqual({
        incidentKey: key,
        diagnosisId: 'task:etl.load',
        at: '2026-11-25T09:30:00.000Z',
        hypotheses: [{ ...h, cause: 'disk_full' }],
        signaturesVersion: 1,
      });
    });

    it('saves a postmortem once and keeps the first review', async () => {
      const r = resolved({ workflowId: 'wf-pm', openedAt: '2026-05-01T09:00:00Z' });
      await store.upsertIncident(r);
      const number = await store.allocateIncidentNumber(r.incidentKey, r.openedAt);
      await store.savePostmortem({
        incidentKey: r.incidentKey,
        markdown: '# draft',
        generatedAt: '2026-05-01T09:20:00Z',
      });
      await store.savePostmortem({
        incidentKey: r.incidentKey,
        markdown: '# draft',
        generatedAt: '2026-05-01T09:21:00Z',
      });
      expect(await store.getPostmortem(number)).toEqual({
        incidentKey: r.incidentKey,
        number,
        markdown: '# draft',
        generatedAt: '2026-05-01T09:20:00.000Z',
      });
      await store.markPostmortemReviewed(number, 'alice', '2026-05-01T12:00:00Z');
      const reviewed = await store.markPostmortemReviewed(r.incidentKey, 'bob', '2026-05-02T12:00:00Z');
      expect(reviewed).toMatchObject({ reviewer: 'alice', reviewedAt: '2026-05-01T12:00:00.000Z' });
      expect((await store.getIncident(number))?.postmortem).toEqual({
        generatedAt: '2026-05-01T09:20:00.000Z',
        reviewedAt: '2026-05-01T12:00:00.000Z',
        reviewer: 'alice',
      });
    });

    it('returns nothing for an unknown incident', async () => {
      expect(await store.getPostmortem('INC-19990101-001')).toBeUndefined();
      expect(await store.getIncident('no-such-incident')).toBeUndefined();
    });
  });

  describe('tuning data', () => {
    it('marks an alert as acted on when an action step ran for its incident', async () => {
      const quiet = incident({ workflowId: 'wf-tune-quiet', openedAt: '2025-07-01T10:00:00Z', runbook: 'r' });
      const acted = incident({ workflowId: 'wf-tune-acted', openedAt: '2025-07-02T10:00:00Z' });
      for (const r of [quiet, acted]) {
        await store.upsertIncident(r);
        await store.recordAlerts(r.incidentKey, [
          {
            fingerprint: `fp-${r.workflowId}`,
            name: 'N',
            labels: {},
            firstFiredAt: r.openedAt,
            resolvedAt: r.openedAt,
            refires: 0,
          },
        ]);
      }
      await store.upsertStep({
        incidentKey: acted.incidentKey,
        stepId: 's',
        runbook: 'r',
        kind: 'action',
        attempts: 1,
        result: 'succeeded',
      });
      const data = await store.tuningData({
        fromMs: Date.parse('2025-07-01T00:00:00Z'),
        toMs: Date.parse('2025-08-01T00:00:00Z'),
      });
      expect(data.alerts.map((a) => [a.fingerprint, a.actionTaken, a.runbook])).toEqual([
        ['fp-wf-tune-quiet', false, 'r'],
        ['fp-wf-tune-acted', true, undefined],
      ]);
      expect(data.incidents.map((i) => i.incidentKey)).toEqual([quiet.incidentKey, acted.incidentKey]);
    });
  });
});

describe('PGlite data directory lock', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'incidentflow-lock-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('refuses a second open of the same directory until the first closes', async () => {
    const first = await createStore({ dataDir });
    try {
      await expect(createStore({ dataDir })).rejects.toThrow(
        `the PGlite store at ${join(dataDir, 'pglite')} is already open in this process`,
      );
    } finally {
      await first.close();
    }
    const again = await createStore({ dataDir });
    await again.close();
  });

  it('refuses a directory another running process holds', async () => {
    await writeFile(join(dataDir, 'pglite.lock'), `${process.ppid}\n`);
    await expect(createStore({ dataDir })).rejects.toThrow(
      `the PGlite store at ${join(dataDir, 'pglite')} is open in process ${process.ppid}; only one process may use it (set DATABASE_URL to share a PostgreSQL server)`,
    );
  });

  it('takes over a lock left by a process that has exited', async () => {
    const exited = spawnSync(process.execPath, ['-e', '0']).pid;
    await writeFile(join(dataDir, 'pglite.lock'), `${exited}\n`);
    const store = await createStore({ dataDir });
    await expect(store.ping()).resolves.toBeUndefined();
    await store.close();
  });
});
