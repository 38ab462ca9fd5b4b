import { diagnose, type HistoryOutcome } from '../../../src/domain/diagnosis';
import type { LogSignature } from '../../../src/domain/log-signatures';
import { ms, QUEUEPOOL_LOG, scenario2Evidence } from '../../fixtures/learn/scenario2';

describe('diagnose', () => {
  it('ranks deployment_regression first for the seed scenario 2 with the deployment as evidence', () => {
    const [top] = diagnose(scenario2Evidence());
    expect(top).toMatchObject({
      cause: 'deployment_regression',
      suggestedRunbook: 'dag_deployment_regression',
      basis: 'no history yet: rule-based estimate 78%',
    });
    expect(top?.evidence[0]).toBe(
      'deployment v2.3.1 of customer_etl at 09:15, 2 min before the failure spike (changed database pooling config)',
    );
    expect(top?.confidence).toBeCloseTo(0.777, 3);
  });

  it('ranks connection_pool_exhaustion first when the task log has QueuePool lines', () => {
    const hypotheses = diagnose(scenario2Evidence({ logText: QUEUEPOOL_LOG }));
    expect(hypotheses.map((h) => h.cause)).toEqual(['connection_pool_exhaustion', 'deployment_regression']);
    expect(hypotheses[0]?.suggestedRunbook).toBe('connection_pool_exhaustion');
    expect(hypotheses[0]?.evidence[0]).toBe(
      'task log: 2 lines match sqlalchemy_queuepool_limit, e.g. "sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00"',
    );
  });

  it.each([
    ['out_of_memory', 'MemoryError: Unable to allocate 3.2 GiB'],
    ['out_of_memory', 'Last State: Terminated  Reason: OOMKilled'],
    [
      'connection_pool_exhaustion',
      'FATAL:  remaining connection slots are reserved for non-replication superuser connections',
    ],
    ['timeout', 'airflow.exceptions.AirflowTaskTimeout: Timeout, PID: 4242'],
    ['permission_denied', 'psycopg2.errors.InsufficientPrivilege: permission denied for table customers'],
    ['schema_mismatch', 'psycopg2.errors.UndefinedColumn: column "segment_id" does not exist'],
    ['disk_full', "OSError: [Errno 28] No space left on device: '/tmp/extract.csv'"],
    [
      'upstream_data_missing',
      'botocore.errorfactory.NoSuchKey: An error occurred (NoSuchKey) when calling GetObject',
    ],
    [
      'upstream_data_missing',
      'airflow.exceptions.AirflowSensorTimeout: Sensor has timed out; run duration of 3600s',
    ],
    ['transient_failure', 'psycopg2.OperationalError: server closed the connection unexpectedly'],
  ])('ranks %s first for the log line %j', (cause, line) => {
    const [top] = diagnose({ ...scenario2Evidence({ deployments: [] }), logText: line });
    expect(top?.cause).toBe(cause);
  });

  it('states the recorded fix outcomes as the basis and calibrates toward them', () => {
    const history: HistoryOutcome[] = [
      ...Array.from({ length: 7 }, () => ({
        cause: 'deployment_regression',
        fix: 'dag_deployment_regression',
        success: true,
      })),
      ...Array.from({ length: 2 }, () => ({
        cause: 'deployment_regression',
        fix: 'dag_deployment_regression',
        success: false,
      })),
    ];
    const [top] = diagnose(scenario2Evidence({ history: [], outcomes: history }));
    expect(top?.basis).toBe(
      '7 of 9 earlier incidents with deployment regression were fixed by rollback; blended with a rule-based estimate 78%',
    );
    // (successes + k·prior) / (trials + k) with k = 4 and prior 0.777
    expect(top?.confidence).toBeCloseTo((7 + 4 * 0.7767) / 13, 3);
  });

  it('lets failed fixes push a strong log signature below the deployment', () => {
    const failures = Array.from({ length: 6 }, () => ({
      cause: 'connection_pool_exhaustion',
      fix: 'connection_pool_exhaustion',
      success: false,
    }));
    const hypotheses = diagnose(scenario2Evidence({ logText: QUEUEPOOL_LOG, outcomes: failures }));
    expect(hypotheses.map((h) => h.cause)).toEqual(['deployment_regression', 'connection_pool_exhaustion']);
  });

  it('proposes a cause seen in similar incidents with the fix that worked for them', () => {
    const history: HistoryOutcome[] = [
      { cause: 'upstream_data_missing', fix: 'pause_and_wait', success: true },
      { cause: 'upstream_data_missing', fix: 'pause_and_wait', success: true },
      { cause: 'upstream_data_missing', success: true },
    ];
    const evidence = scenario2Evidence({ deployments: [], history });
    const [top] = diagnose(evidence);
    expect(top).toMatchObject({
      cause: 'upstream_data_missing',
      suggestedRunbook: 'data_quality_violation',
      evidence: ['3 of 3 similar earlier incidents had this cause'],
      basis: '3 of 3 similar incidents had this cause; no fix outcomes recorded yet; prior 60%',
    });
  });

  it.each([
    ['of another service', { service: 'billing_etl', version: 'v9', atMs: ms('09:15') }],
    ['older than the window', { service: 'customer_etl', version: 'v2.3.0', atMs: ms('08:40') }],
    ['after the failure started', { service: 'customer_etl', version: 'v2.3.2', atMs: ms('09:20') }],
  ])('ignores a deployment %s', (_name, deployment) => {
    expect(diagnose(scenario2Evidence({ deployments: [deployment] }))).toEqual([]);
  });

  it('counts a deployment of a service named in the alert labels', () => {
    const evidence = scenario2Evidence({
      deployments: [{ service: 'airflow-workers', version: 'v7', atMs: ms('09:10') }],
    });
    evidence.incident.labels.deployment = 'airflow-workers';
    expect(diagnose(evidence)[0]?.evidence[0]).toBe(
      'deployment v7 of airflow-workers at 09:10, 7 min before the failure spike',
    );
  });

  it('writes times in the configured time zone', () => {
    const [top] = diagnose(scenario2Evidence(), { timeZone: 'Asia/Seoul' });
    expect(top?.evidence[0]).toContain('at 18:15, 2 min before');
  });

  it('breaks confidence ties by cause name', () => {
    const signatures: LogSignature[] = [
      { id: 'z', cause: 'timeout', patterns: [/boom/], weight: 0.5 },
      { id: 'a', cause: 'disk_full', patterns: [/bang/], weight: 0.5 },
    ];
    const hypotheses = diagnose(scenario2Evidence({ deployments: [], logText: 'boom\nbang' }), {
      signatures,
    });
    expect(hypotheses.map((h) => [h.cause, h.confidence])).toEqual([
      ['disk_full', 0.5],
      ['timeout', 0.5],
    ]);
  });

  it('uses the incident type routing chose as weak evidence', () => {
    const evidence = scenario2Evidence({ deployments: [] });
    evidence.incident.type = 'task_temporary_failure';
    expect(diagnose(evidence)).toEqual([
      {
        cause: 'transient_failure',
        confidence: 0.35,
        prior: 0.35,
        evidence: ['routed as incident type task_temporary_failure'],
        suggestedRunbook: 'task_temporary_failure',
        basis: 'no history yet: rule-based estimate 35%',
      },
    ]);
  });

  it('returns no hypothesis without evidence', () => {
    expect(diagnose(scenario2Evidence({ deployments: [] }))).toEqual([]);
  });
});
