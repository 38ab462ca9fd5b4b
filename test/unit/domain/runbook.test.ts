import {
  ActionName,
  actionTimeoutMs,
  httpStatusExpected,
  isValidEmbeddedTemplate,
  retryDelaysMs,
  Runbook,
  runbookMatches,
  runbookVariables,
  stepIndex,
  type ActionParams,
  type ActionStep,
  type RetrySpec,
} from '../../../src/domain/runbook';

const S = 1_000;
const M = 60_000;

function runbook(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'test',
    title: 'Test',
    risk: 'safe',
    match: { incident_types: ['task_temporary_failure'] },
    steps: [{ id: 'cool_down', type: 'wait', duration: '1m' }],
    ...overrides,
  };
}

/** The problems of a runbook as `path: message` lines. */
function problems(input: unknown): string[] {
  const result = Runbook.safeParse(input);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

function parseAction(step: Record<string, unknown>): ActionStep {
  const parsed = Runbook.parse(runbook({ steps: [{ id: 'act', type: 'action', ...step }] }));
  return parsed.steps[0] as ActionStep;
}

describe('Runbook', () => {
  it('fills the documented defaults', () => {
    const parsed = Runbook.parse(
      runbook({
        steps: [
          {
            id: 'retry',
            type: 'action',
            action: 'airflow.clear_task',
            with: { dag_id: 'etl', task_id: 'load' },
          },
          { id: 'approve', type: 'approval', prompt: 'Go?', approvers: [{ role: 'primary' }], timeout: '5m' },
          { id: 'verify', type: 'check', check: { promql: 'up == 1' }, within: '5m' },
          { id: 'tell', type: 'notify', message: 'done' },
        ],
      }),
    );
    expect(parsed).toMatchObject({ description: '', auto_start: false, params: {}, prevention: [] });
    expect(parsed.match.labels).toEqual({});
    expect(parsed.steps).toEqual([
      {
        id: 'retry',
        type: 'action',
        action: 'airflow.clear_task',
        with: {
          dag_id: 'etl',
          task_id: 'load',
          include_downstream: false,
          wait_for_completion: true,
          completion_timeout: '30m',
        },
        on_failure: 'escalate',
      },
      {
        id: 'approve',
        type: 'approval',
        prompt: 'Go?',
        approvers: [{ role: 'primary' }],
        min_approvals: 1,
        channels: ['slack'],
        timeout: '5m',
        on_timeout: 'escalate',
        on_reject: 'abort',
      },
      {
        id: 'verify',
        type: 'check',
        check: { promql: 'up == 1' },
        for: '0s',
        within: '5m',
        interval: '30s',
        on_failure: 'escalate',
      },
      {
        id: 'tell',
        type: 'notify',
        message: 'done',
        channels: ['slack'],
        mention: [],
        on_failure: 'continue',
      },
    ]);
  });

  const validParams: { [A in ActionName]: Record<string, unknown> } = {
    'airflow.clear_task': { dag_id: '{{ dag_id }}', task_id: '{{ task_id }}', dag_run_id: 'manual__1' },
    'airflow.trigger_dag': { dag_id: 'etl', conf: { date: '{{ ds | "today" }}', full: true } },
    'airflow.pause_dag': { dag_ids: ['reports', '{{ dag_id }}'] },
    'airflow.unpause_dag': { downstream_of: '{{ dag_id }}' },
    'airflow.set_pool_slots': { pool: 'default_pool', slots: 32 },
    'kubectl.rollout_undo': { namespace: 'data-platform', deployment: 'airflow-workers', to_revision: 3 },
    'kubectl.rollout_status': { namespace: 'data-platform', deployment: 'airflow-workers' },
    'kubectl.rollout_restart': { namespace: 'data-platform', deployment: 'airflow-workers' },
    'kubectl.scale': { namespace: 'data-platform', deployment: 'airflow-workers', replicas: 0 },
    'slack.notify': { message: 'hello {{ team }}', channel: '#data' },
    'http.request': { method: 'DELETE', url_env: 'API_URL' },
  };

  it.each(ActionName.options)('accepts the catalogue action %s with its parameters', (action) => {
    expect(
      problems(runbook({ steps: [{ id: 'act', type: 'action', action, with: validParams[action] }] })),
    ).toEqual([]);
  });

  it.each([
    [
      'airflow.clear_task',
      { dag_id: 'etl' },
      'steps.0.with.task_id: Invalid input: expected string, received undefined',
    ],
    ['airflow.pause_dag', {}, 'steps.0.with: exactly one of "dag_ids" or "downstream_of" must be set'],
    ['airflow.unpause_dag', { dag_ids: [] }, 'steps.0.with.dag_ids: must list at least one DAG'],
    [
      'airflow.set_pool_slots',
      { pool: 'p' },
      'steps.0.with: exactly one of "slots" or "increase_by" must be set',
    ],
    [
      'airflow.set_pool_slots',
      { pool: 'p', increase_by: 0 },
      'steps.0.with.increase_by: must be greater than 0',
    ],
    ['airflow.set_pool_slots', { pool: 'p', slots: 2.5 }, 'steps.0.with.slots: must be a whole number'],
    [
      'kubectl.scale',
      { namespace: 'n', deployment: 'd', replicas: 1, increase_by: 1 },
      'steps.0.with: exactly one of "replicas" or "increase_by" must be set',
    ],
    [
      'kubectl.scale',
      { namespace: 'n', deployment: 'd', replicas: -1 },
      'steps.0.with.replicas: must be 0 or more',
    ],
    [
      'kubectl.rollout_status',
      { namespace: 'n', deployment: 'd', timeout: '0s' },
      'steps.0.with.timeout: must be longer than 0s',
    ],
    [
      'http.request',
      { method: 'POST', url_env: 'api_url' },
      'steps.0.with.url_env: must be an environment variable name such as "DATA_API_URL"',
    ],
    [
      'http.request',
      { method: 'POST', url_env: 'API', headers_env: { 'X Token': 'TOKEN' } },
      'steps.0.with.headers_env.X Token: must be an HTTP header name',
    ],
    [
      'http.request',
      { method: 'POST', url_env: 'API', body: { items: ['ok', '{{ bad-name }}'] } },
      'steps.0.with.body.items.1: is not a valid template (use e.g. "{{ dag_id }}")',
    ],
    [
      'http.request',
      { method: 'POST', url_env: 'API', body: 3 },
      'steps.0.with.body: must be an object, an array or a string',
    ],
    [
      'http.request',
      { method: 'POST', url_env: 'API', expect_status: [700] },
      'steps.0.with.expect_status.0: must be an HTTP status',
    ],
    [
      'airflow.trigger_dag',
      { dag_id: 'etl', conf: { a: '{{ }}' } },
      'steps.0.with.conf.a: is not a valid template (use e.g. "{{ dag_id }}")',
    ],
  ])('rejects %s with %j', (action, params, problem) => {
    expect(problems(runbook({ steps: [{ id: 'act', type: 'action', action, with: params }] }))).toEqual([
      problem,
    ]);
  });

  it.each([
    [{ id: 'Retry' }, 'steps.0.id: must be lower_snake_case: a letter, then letters, digits or "_"'],
    [{ type: undefined }, 'steps.0.type: a step needs "type" (known: action, approval, check, notify, wait)'],
    [{ approvers: [] }, 'steps.0.approvers: an approval step needs at least one approver'],
    [
      { approvers: [{ role: 'primary', person: 'alice' }] },
      'steps.0.approvers.0: exactly one of "role" or "person" must be set',
    ],
    [{ channels: ['email'] }, 'steps.0.channels.0: Invalid option: expected one of "slack"|"pagerduty"'],
    [{ on_reject: 'continue' }, 'steps.0.on_reject: must be abort, escalate or { goto: <step id> }'],
    [{ timeout: undefined }, 'steps.0.timeout: Invalid input: expected string, received undefined'],
  ])('rejects an approval step with %j', (change, problem) => {
    const step = {
      id: 'approve',
      type: 'approval',
      prompt: 'Go?',
      approvers: [{ role: 'primary' }],
      timeout: '5m',
    };
    expect(problems(runbook({ steps: [{ ...step, ...change }] }))).toEqual([problem]);
  });

  it.each([
    [{ check: {} }, 'steps.0.check: exactly one of "promql" or "airflow" must be set'],
    [
      { check: { promql: 'x{a="{{ a-b }}"}' } },
      'steps.0.check.promql: is not a valid template (use e.g. "{{ dag_id }}")',
    ],
    [{ interval: '0s' }, 'steps.0.interval: must be longer than 0s'],
    [
      { check: { airflow: { dag_id: 'etl', state: 'done' } } },
      expect.stringMatching(/^steps\.0\.check\.airflow\.state: Invalid option/),
    ],
  ])('rejects a check step with %j', (change, problem) => {
    const step = { id: 'verify', type: 'check', check: { promql: 'up == 1' }, within: '5m' };
    expect(problems(runbook({ steps: [{ ...step, ...change }] }))).toEqual([problem]);
  });

  it.each([
    [{ name: 'Bad-Name' }, 'name: must be lower_snake_case: a letter, then letters, digits or "_"'],
    [{ title: '' }, 'title: must not be empty'],
    [{ risk: 'yolo' }, 'risk: Invalid option: expected one of "safe"|"risky"'],
    [{ match: { incident_types: [] } }, 'match.incident_types: must list at least one incident type'],
    [{ params: { 'dag-id': '{{ dag_id }}' } }, 'params.dag-id: must be a label name'],
    [{ params: { dag_id: '{{ dag_id' } }, 'params.dag_id: is not a valid template (use e.g. "{{ dag_id }}")'],
    [{ steps: [] }, 'steps: a runbook needs at least one step'],
  ])('rejects a runbook with %j', (change, problem) => {
    expect(problems(runbook(change))).toEqual([problem]);
  });

  it.each([
    [{ schedule: [] }, 'steps.0.retry.schedule: needs at least one delay (omit retry for one attempt)'],
    [
      { schedule: ['30s', 'later'] },
      'steps.0.retry.schedule.1: must be a duration such as "30s", "5m", "1h30m" or "2d"',
    ],
    [
      { exponential: { initial: '1m', max_interval: '30s', max_attempts: 3 } },
      'steps.0.retry.exponential.max_interval: must be at least "initial" (1m)',
    ],
    [
      { exponential: { initial: '1m', factor: 0.5, max_attempts: 3 } },
      'steps.0.retry.exponential.factor: must be at least 1',
    ],
    [{}, 'steps.0.retry: exactly one of "schedule" or "exponential" must be set'],
  ])('rejects retry %j', (retry, problem) => {
    const step = {
      id: 'act',
      type: 'action',
      action: 'kubectl.rollout_restart',
      with: { namespace: 'n', deployment: 'd' },
      retry,
    };
    expect(problems(runbook({ steps: [step] }))).toEqual([problem]);
  });

  it('allows a risky runbook to start automatically when an approval gates its first action', () => {
    const steps = [
      { id: 'tell', type: 'notify', message: 'rolling back soon', on_failure: { goto: 'approve' } },
      {
        id: 'approve',
        type: 'approval',
        prompt: 'Roll back?',
        approvers: [{ role: 'primary' }],
        timeout: '5m',
      },
      {
        id: 'rollback',
        type: 'action',
        action: 'kubectl.rollout_undo',
        with: { namespace: 'n', deployment: 'd' },
      },
    ];
    expect(problems(runbook({ risk: 'risky', auto_start: true, steps }))).toEqual([]);
  });

  it('allows a risky runbook without approval when it is only offered as a suggestion', () => {
    const steps = [
      {
        id: 'rollback',
        type: 'action',
        action: 'kubectl.rollout_undo',
        with: { namespace: 'n', deployment: 'd' },
      },
    ];
    expect(problems(runbook({ risk: 'risky', auto_start: false, steps }))).toEqual([]);
  });

  it('accepts an explicit timeout longer than the action waits', () => {
    const steps = [
      {
        id: 'status',
        type: 'action',
        action: 'kubectl.rollout_status',
        with: { namespace: 'n', deployment: 'd' },
        timeout: '6m',
      },
    ];
    expect(problems(runbook({ steps }))).toEqual([]);
  });
});

describe('retryDelaysMs', () => {
  it.each<[string, RetrySpec | undefined, number[]]>([
    ['no retry spec: one attempt', undefined, []],
    ['an explicit schedule as given', { schedule: ['30s', '2m', '5m'] }, [30 * S, 2 * M, 5 * M]],
    [
      'exponential: max_attempts counts the first attempt',
      { exponential: { initial: '30s', factor: 2, max_attempts: 4 } },
      [30 * S, M, 2 * M],
    ],
    [
      'exponential capped at max_interval',
      { exponential: { initial: '30s', factor: 3, max_interval: '2m', max_attempts: 5 } },
      [30 * S, 90 * S, 2 * M, 2 * M],
    ],
    [
      'exponential with factor 1 is constant',
      { exponential: { initial: '10s', factor: 1, max_attempts: 3 } },
      [10 * S, 10 * S],
    ],
    [
      'exponential with one attempt has no retries',
      { exponential: { initial: '10s', factor: 2, max_attempts: 1 } },
      [],
    ],
    [
      'fractional factors round to whole milliseconds',
      { exponential: { initial: '1s', factor: 1.5, max_attempts: 4 } },
      [1000, 1500, 2250],
    ],
  ])('%s', (_title, retry, expected) => {
    expect(retryDelaysMs(retry)).toEqual(expected);
  });

  it('reads the parsed default factor of 2', () => {
    const step = parseAction({
      action: 'kubectl.rollout_restart',
      with: { namespace: 'n', deployment: 'd' },
      retry: { exponential: { initial: '1m', max_attempts: 3 } },
    });
    expect(retryDelaysMs(step.retry)).toEqual([M, 2 * M]);
  });
});

describe('actionTimeoutMs', () => {
  it.each([
    [
      'an explicit timeout',
      { action: 'kubectl.rollout_restart', with: { namespace: 'n', deployment: 'd' }, timeout: '2m' },
      2 * M,
    ],
    ['the default for actions that do not wait', { action: 'slack.notify', with: { message: 'hi' } }, 10 * M],
    [
      'completion_timeout plus 5m for a waiting clear',
      { action: 'airflow.clear_task', with: { dag_id: 'e', task_id: 't' } },
      35 * M,
    ],
    [
      'the default for a clear that does not wait',
      { action: 'airflow.clear_task', with: { dag_id: 'e', task_id: 't', wait_for_completion: false } },
      10 * M,
    ],
    [
      'the rollout timeout plus 5m for rollout_status',
      { action: 'kubectl.rollout_status', with: { namespace: 'n', deployment: 'd', timeout: '2m' } },
      7 * M,
    ],
  ])('uses %s', (_title, step, expected) => {
    expect(actionTimeoutMs(parseAction(step))).toBe(expected);
  });
});

describe('runbookMatches', () => {
  const parsed = Runbook.parse(
    runbook({ match: { incident_types: ['task_temporary_failure', 'sla_miss'], labels: { team: 'data' } } }),
  );

  it.each([
    ['a listed type with matching labels', 'sla_miss', { team: 'data', dag_id: 'etl' }, true],
    ['an unlisted type', 'data_quality_violation', { team: 'data' }, false],
    ['a listed type with a different label value', 'sla_miss', { team: 'web' }, false],
    ['a listed type without the label', 'sla_miss', {}, false],
  ])('decides %s', (_title, incidentType, labels, expected) => {
    expect(runbookMatches(parsed, { incidentType, labels })).toBe(expected);
  });

  it('matches any labels when the runbook lists none', () => {
    expect(
      runbookMatches(Runbook.parse(runbook()), { incidentType: 'task_temporary_failure', labels: {} }),
    ).toBe(true);
  });
});

describe('stepIndex', () => {
  const parsed = Runbook.parse(
    runbook({
      steps: [
        { id: 'first', type: 'wait', duration: '1m' },
        { id: 'second', type: 'wait', duration: '1m' },
      ],
    }),
  );

  it.each([
    ['first', 0],
    ['second', 1],
    ['missing', -1],
  ])('finds %s at %i', (id, expected) => {
    expect(stepIndex(parsed, id)).toBe(expected);
  });
});

describe('runbookVariables', () => {
  const parsed = Runbook.parse(
    runbook({
      params: {
        deployment: '{{ deployment | "airflow-workers" }}',
        dag: '{{ dag_id }}',
        task_id: '{{ task_id }}',
      },
    }),
  );

  it('overlays rendered params on the labels and names params that cannot be rendered', () => {
    expect(runbookVariables(parsed, { dag_id: 'etl', deployment: '', team: 'data' })).toEqual({
      variables: { dag_id: 'etl', deployment: 'airflow-workers', dag: 'etl', team: 'data' },
      missing: ['task_id'],
    });
  });
});

describe('isValidEmbeddedTemplate', () => {
  it.each([
    ['sum(rate(x{dag_id="{{ dag_id }}"}[5m])) < 0.05', true],
    ['{"text": "{{ summary | dag_id }}"}', true],
    ['{"a": {"b": 1}}', true],
    ['no placeholders', true],
    ['x{a="{{ dag-id }}"}', false],
    ['{{ dag_id', false],
    ['{{{ dag_id }}}', false],
  ])('judges %s as %s', (text, expected) => {
    expect(isValidEmbeddedTemplate(text)).toBe(expected);
  });
});

describe('httpStatusExpected', () => {
  const base: ActionParams['http.request'] = { method: 'POST', url_env: 'API' };

  it.each([
    [base, 204, true],
    [base, 302, false],
    [{ ...base, expect_status: [409] }, 409, true],
    [{ ...base, expect_status: [409] }, 200, false],
  ])('judges %j answering %i as %s', (params, status, expected) => {
    expect(httpStatusExpected(params, status)).toBe(expected);
  });
});
