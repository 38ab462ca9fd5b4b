import { ApplicationFailure } from '@temporalio/common';
import {
  type LearnActivities,
  createLearnActivities,
  type TaskLogRequest,
} from '../../src/activities/learn.activities';
import type { Store } from '../../src/adapters/store';
import { incidentArchive } from '../../src/adapters/store/incident-archive';
import { type IncidentRecord, incidentKeyOf } from '../../src/domain/incident-record';
import {
  at,
  deployment,
  QUEUEPOOL_LOG,
  scenario2Events,
  scenario2Incident,
  scenario2Prevention,
  scenario2Steps,
} from '../fixtures/learn/scenario2';
import { openTestStore, type TestStore } from '../helpers/store';

const failedTask: TaskLogRequest = {
  dagId: 'customer_etl',
  dagRunId: 'scheduled__2026-04-25T09:00:00+00:00',
  taskId: 'transform',
  tryNumber: 1,
};

function fakeClock(startIso: string) {
  let now = Date.parse(startIso);
  return {
    now: () => now,
    sleep: () => Promise.resolve(),
    set: (iso: string) => {
      now = Date.parse(iso);
    },
  };
}

function diagnoseInput(incidentKey: string, openedAt = at('09:18')) {
  return {
    incident: {
      incidentKey,
      incidentType: 'task_failure_rate',
      service: 'customer_etl',
      labels: { alertname: 'AirflowTaskFailureRateHigh', dag_id: 'customer_etl' },
      openedAt,
      failureStartedAt: at('09:17'),
      fingerprints: ['fp-failrate'],
    },
  };
}

describe('learn activities', () => {
  let t: TestStore;
  let store: Store;
  let clock: ReturnType<typeof fakeClock>;
  let logRequests: TaskLogRequest[];
  let logResponse: () => Promise<string | undefined>;
  let learn: LearnActivities;

  beforeAll(async () => {
    t = await openTestStore('pglite');
    store = t.store;
    await store.migrate();
    await store.recordDeployment(deployment);
  });

  afterAll(async () => {
    await t?.cleanup();
  });

  beforeEach(() => {
    clock = fakeClock(at('09:22'));
    logRequests = [];
    logResponse = () => Promise.resolve(QUEUEPOOL_LOG);
    learn = createLearnActivities({
      store,
      clock,
      fetchTaskLog: (req) => {
        logRequests.push(req);
        return logResponse();
      },
    });
  });

  describe('diagnoseIncident', () => {
    it('blames the deployment when no failed task is known', async () => {
      const result = await learn.diagnoseIncident(diagnoseInput('diag-a'));
      expect(result.log).toBe('not_requested');
      expect(result.hypotheses[0]).toMatchObject({ cause: 'deployment_regression' });
      expect(result.hypotheses[0]?.evidence[0]).toBe(
        'deployment v2.3.1 of customer_etl at 09:15, 2 min before the failure spike (changed database pooling config)',
      );
      expect(result.deployments.map((d) => d.version)).toEqual(['v2.3.1']);
    });

    it('reads the failed task log and ranks connection pool exhaustion first', async () => {
      const result = await learn.diagnoseIncident({ ...diagnoseInput('diag-b'), failedTask });
      expect(logRequests).toEqual([failedTask]);
      expect(result.log).toBe('fetched');
      expect(result.hypotheses.map((h) => h.cause)).toEqual([
        'connection_pool_exhaustion',
        'deployment_regression',
      ]);
    });

    it('still diagnoses when the task log cannot be read', async () => {
      logResponse = () => Promise.reject(new Error('airflow down'));
      const result = await learn.diagnoseIncident({ ...diagnoseInput('diag-c'), failedTask });
      expect(result.log).toBe('failed');
      expect(result.hypotheses[0]?.cause).toBe('deployment_regression');
    });

    it('stores the hypotheses under the incident, once per diagnosis id', async () => {
      const first = await learn.diagnoseIncident({ ...diagnoseInput('diag-d'), failedTask });
      await learn.diagnoseIncident({ ...diagnoseInput('diag-d'), failedTask });
      expect(await store.latestDiagnosis('diag-d')).toEqual({
        incidentKey: 'diag-d',
        diagnosisId: 'main',
        at: first.diagnosedAt,
        hypotheses: first.hypotheses,
        signaturesVersion: 1,
      });
    });
  });

  describe('finishIncident and what it teaches', () => {
    const earlier = (i: number): IncidentRecord => {
      const openedAt = `2026-04-0${i + 1}T09:17:00.000Z`;
      return {
        incidentKey: incidentKeyOf('incident:customer_etl:failrate', openedAt),
        workflowId: 'incident:customer_etl:failrate',
        incidentType: 'task_failure_rate',
        service: 'customer_etl',
        severity: 'P2',
        title: 'failure rate',
        dedupKey: 'failrate',
        status: 'resolved',
        openedAt,
        resolvedAt: `2026-04-0${i + 1}T09:40:00.000Z`,
        outcome: 'resolved_by_runbook',
        runbook: 'connection_pool_exhaustion',
      };
    };

    it('stores the hypothesis whose runbook fixed the incident as an unconfirmed root cause', async () => {
      const inc = earlier(0);
      await learn.diagnoseIncident({ ...diagnoseInput(inc.incidentKey, inc.openedAt), failedTask });
      const result = await learn.finishIncident({
        incident: inc,
        runbookRuns: [
          { runbook: 'dag_deployment_regression', outcome: 'success', finishedAt: inc.resolvedAt! },
        ],
      });
      expect(result).toEqual({ rootCause: 'deployment_regression', rootCauseConfirmed: false, flagged: [] });
      expect(await store.getIncident(inc.incidentKey)).toMatchObject({
        outcome: 'resolved_by_runbook',
        rootCause: 'deployment_regression',
        rootCauseConfirmed: false,
      });
    });

    it('flags the runbook when it failed 4 of its last 5 runs', async () => {
      const outcomes = ['success', 'failure', 'failure', 'failure', 'failure'] as const;
      let last;
      for (const [i, outcome] of outcomes.entries()) {
        const inc = earlier(i + 1);
        last = await learn.finishIncident({
          incident: inc,
          confirmedCause: 'connection_pool_exhaustion',
          runbookRuns: [{ runbook: 'connection_pool_exhaustion', outcome, finishedAt: inc.resolvedAt! }],
        });
      }
      expect(last?.flagged).toEqual([
        {
          runbook: 'connection_pool_exhaustion',
          runs: 5,
          failures: 4,
          rate: 0.2,
          message: 'failed 4 of its last 5 runs',
        },
      ]);
    });

    it('orders suggestions by the recorded outcomes and flags the weak candidate', async () => {
      const result = await learn.runbookSuggestions({
        incidentType: 'task_failure_rate',
        candidates: ['connection_pool_exhaustion', 'dag_deployment_regression'],
      });
      expect(result.suggestions.map((s) => s.runbook)).toEqual([
        'dag_deployment_regression',
        'connection_pool_exhaustion',
      ]);
      expect(result.flagged.map((f) => f.runbook)).toEqual(['connection_pool_exhaustion']);
    });

    it('calibrates the next diagnosis with the recorded fix outcomes', async () => {
      const result = await learn.diagnoseIncident({ ...diagnoseInput('diag-after'), failedTask });
      const pool = result.hypotheses.find((h) => h.cause === 'connection_pool_exhaustion');
      expect(pool?.basis).toBe(
        '1 of 5 earlier incidents with connection pool exhaustion were fixed by raising the connection pool; blended with a prior of 94% (rules, and 5 of 6 similar incidents had this cause)',
      );
      expect(result.hypotheses[0]?.cause).toBe('deployment_regression');
    });
  });

  describe('postmortems', () => {
    const inc: IncidentRecord = {
      ...scenario2Incident,
      workflowId: 'incident:customer_etl:failrate',
      dedupKey: 'failrate',
      status: 'resolved',
    };

    beforeAll(async () => {
      const l = createLearnActivities({
        store,
        clock: fakeClock(at('09:22')),
        fetchTaskLog: () => Promise.resolve(QUEUEPOOL_LOG),
      });
      const { number } = await l.allocateIncidentNumber({
        incidentKey: inc.incidentKey,
        openedAt: inc.openedAt,
      });
      await l.recordIncident({ ...inc, number });
      await l.recordTimeline({ incidentKey: inc.incidentKey, events: scenario2Events });
      await l.recordSteps({ steps: scenario2Steps });
      await l.diagnoseIncident({ ...diagnoseInput(inc.incidentKey, inc.openedAt), failedTask });
    });

    it('renders the postmortem from the stored record with the seed timeline', async () => {
      clock.set(at('09:40'));
      const result = await learn.generatePostmortem({
        incidentKey: inc.incidentKey,
        prevention: scenario2Prevention,
      });
      expect(result.number).toBe('INC-20260425-001');
      const timeline = result.markdown.split('\n').filter((l) => /^- \d\d:\d\d — /.test(l));
      expect(timeline).toEqual([
        '- 09:15 — Deployment v2.3.1 of customer_etl released (changed database pooling config)',
        '- 09:17 — Task failure rate spike (2% → 78%)',
        '- 09:22 — AI RCA identified connection pool exhaustion',
        '- 09:27 — Auto-fix: increased pool size',
        '- 09:35 — DAG recovered',
      ]);
      expect((await store.getPostmortem('INC-20260425-001'))?.markdown).toBe(result.markdown);
    });

    it('keeps the first generation time when generated again', async () => {
      clock.set(at('09:40'));
      const first = await learn.generatePostmortem({ incidentKey: inc.incidentKey });
      clock.set(at('10:40'));
      const second = await learn.generatePostmortem({ incidentKey: inc.incidentKey });
      expect(second.generatedAt).toBe(first.generatedAt);
    });

    it('reports a postmortem as overdue 24 hours after it was generated without a review', async () => {
      clock.set('2026-04-26T09:41:00.000Z');
      expect(await learn.postmortemStatus({ incidentKey: inc.incidentKey })).toEqual({
        exists: true,
        number: 'INC-20260425-001',
        generatedAt: '2026-04-25T09:40:00.000Z',
        reviewDueAt: '2026-04-26T09:40:00.000Z',
        overdue: true,
      });
      await store.markPostmortemReviewed('INC-20260425-001', 'alice', '2026-04-26T09:45:00.000Z');
      expect((await learn.postmortemStatus({ incidentKey: inc.incidentKey })).overdue).toBe(false);
    });

    it('includes timeline entries the running incident archived, in time order', async () => {
      const { number: _number, ...unnumbered } = inc;
      const archivedInc: IncidentRecord = {
        ...unnumbered,
        workflowId: 'incident:customer_etl:archived',
        dedupKey: 'archived',
        incidentKey: incidentKeyOf('incident:customer_etl:archived', inc.openedAt),
      };
      await learn.recordIncident(archivedInc);
      // The oldest entries left the state (archived); the rest were recorded at the end with the marker.
      const [opened, firing, ...rest] = [...scenario2Events].sort((a, b) => a.seq - b.seq);
      await incidentArchive(store.sqlClient()).archive(archivedInc.incidentKey, 'timeline', 1, [
        opened!,
        firing!,
      ]);
      await learn.recordTimeline({
        incidentKey: archivedInc.incidentKey,
        events: [{ seq: 1, at: firing!.at, kind: 'note', text: '2 older entries archived' }, ...rest],
      });
      clock.set(at('09:40'));
      const result = await learn.generatePostmortem({ incidentKey: archivedInc.incidentKey });
      const timeline = result.markdown.split('\n').filter((l) => /^- \d\d:\d\d — /.test(l));
      expect(timeline).toEqual([
        '- 09:15 — Deployment v2.3.1 of customer_etl released (changed database pooling config)',
        '- 09:17 — Task failure rate spike (2% → 78%)',
        '- 09:22 — AI RCA identified connection pool exhaustion',
        '- 09:27 — Auto-fix: increased pool size',
        '- 09:35 — DAG recovered',
      ]);
    });

    it('fails without retry for an incident the store does not know', async () => {
      const error = await learn.generatePostmortem({ incidentKey: 'nope' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({
        type: 'NotFound',
        nonRetryable: true,
        message: 'incident nope is not in the store',
      });
    });
  });

  describe('buildTuningReport', () => {
    it('counts a flapping alert from the recorded alerts', async () => {
      const openedAt = '2026-06-03T10:00:00.000Z';
      const key = incidentKeyOf('incident:scheduler:hb', openedAt);
      await learn.recordIncident({
        incidentKey: key,
        workflowId: 'incident:scheduler:hb',
        incidentType: 'scheduler',
        service: 'airflow',
        severity: 'P3',
        title: 'heartbeat',
        dedupKey: 'hb',
        status: 'resolved',
        openedAt,
        resolvedAt: '2026-06-03T10:30:00.000Z',
        outcome: 'auto_resolved',
      });
      const alert = {
        fingerprint: 'fp-hb',
        name: 'SchedulerHeartbeatMissing',
        labels: { alertname: 'SchedulerHeartbeatMissing' },
        firstFiredAt: openedAt,
        resolvedAt: '2026-06-03T10:25:00.000Z',
        refires: 4,
      };
      await learn.recordAlerts({ incidentKey: key, alerts: [alert] });
      await learn.recordAlerts({ incidentKey: key, alerts: [alert] });
      const { report, markdown } = await learn.buildTuningReport({
        fromMs: Date.parse('2026-06-01T00:00:00Z'),
        toMs: Date.parse('2026-07-01T00:00:00Z'),
      });
      expect(report.flapping).toEqual([
        { name: 'SchedulerHeartbeatMissing', fingerprint: 'fp-hb', fires: 5, refires: 4, incidents: 1 },
      ]);
      expect(report.noise).toEqual([{ name: 'SchedulerHeartbeatMissing', occurrences: 1, withoutAction: 1 }]);
      expect(markdown).toContain(
        '- `SchedulerHeartbeatMissing` (fingerprint `fp-hb`) — fired 5 times (4 refires) in 1 incident',
      );
    });
  });
});
