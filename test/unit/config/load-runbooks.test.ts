import { join, resolve } from 'node:path';
import { checkRunbookReferences, loadRunbookFile, loadRunbooks } from '../../../src/config/load-runbooks';
import { formatProblem } from '../../../src/config/yaml-file';
import { Runbook } from '../../../src/domain/runbook';

const FIXTURES = 'test/fixtures/runbooks';
const ROOT = resolve(__dirname, '../../..');
const lines = (problems: Parameters<typeof formatProblem>[0][]) => problems.map(formatProblem);

describe('loadRunbookFile', () => {
  it.each(['valid.every-step-kind.yaml', 'valid.http-request.yaml'])('accepts %s', (file) => {
    const loaded = loadRunbookFile(join(ROOT, FIXTURES, file));
    expect(lines(loaded.problems)).toEqual([]);
    expect(loaded.value?.steps.length).toBeGreaterThan(0);
  });

  const KNOWN_ACTIONS =
    'airflow.clear_task, airflow.trigger_dag, airflow.pause_dag, airflow.unpause_dag, airflow.set_pool_slots, ' +
    'kubectl.rollout_undo, kubectl.rollout_status, kubectl.rollout_restart, kubectl.scale, slack.notify, http.request';

  it.each([
    ['unknown-action', `steps.0.action: unknown action "airflow.explode" (known: ${KNOWN_ACTIONS})`],
    ['approval-without-approvers', 'steps.1.approvers: an approval step needs at least one approver'],
    ['bad-duration', 'steps.0.timeout: must be a duration such as "30s", "5m", "1h30m" or "2d"'],
    ['duplicate-step-id', 'steps.3.id: duplicate step id "verify" (first at steps.1)'],
    ['goto-missing-step', 'steps.2.on_failure.goto: unknown step "nope"'],
    ['goto-self', 'steps.0.on_failure.goto: a step cannot go to itself'],
    ['reject-goto-missing-step', 'steps.0.on_reject.goto: unknown step "cleanup"'],
    ['within-shorter-than-for', 'steps.0.within: must be at least "for" (10m)'],
    [
      'risky-auto-start-without-approval',
      'auto_start: a risky runbook that starts automatically needs an approval step before its first action ' +
        '("rollback" at steps.1); add one or set auto_start: false',
    ],
    [
      'risky-proceed-on-timeout',
      'steps.0.on_timeout: a risky runbook that starts automatically cannot proceed without approval; use escalate or abort',
    ],
    [
      'goto-over-approval',
      'steps.0.on_failure.goto: jumps over the approval step "approve" of a risky runbook that starts automatically',
    ],
    [
      'unknown-step-type',
      'steps.0.type: unknown step type "prayer" (known: action, approval, check, notify, wait)',
    ],
    ['unknown-key', 'steps.0: Unrecognized key: "jitter"'],
    ['pause-both-selectors', 'steps.0.with: exactly one of "dag_ids" or "downstream_of" must be set'],
    ['retry-both-kinds', 'steps.0.retry: exactly one of "schedule" or "exponential" must be set'],
    [
      'min-approvals-above-approvers',
      'steps.0.min_approvals: needs 3 approvals but only 2 approvers are listed',
    ],
    [
      'timeout-shorter-than-wait',
      'steps.0.timeout: must be longer than with.completion_timeout (30m), which the action waits for',
    ],
    ['bad-template', 'steps.0.message: is not a valid template (use e.g. "{{ dag_id }}")'],
    ['http-url-in-yaml', 'steps.0.with: Unrecognized key: "url"'],
    ['http-get-with-body', 'steps.0.with.body: a GET request has no body'],
    [
      'dag-run-task-state',
      'steps.0.check.airflow.state: a DAG run state is one of queued, running, success, failed (set task_id to check a task)',
    ],
    ['zero-wait', 'steps.0.duration: must be longer than 0s'],
    ['bad-on-failure', 'steps.0.on_failure: must be escalate, continue, abort or { goto: <step id> }'],
    ['title-too-long', 'title: must be at most 75 characters (Slack button text)'],
  ])('rejects invalid.%s.yaml with its exact problem', (reason, problem) => {
    const file = `${FIXTURES}/invalid.${reason}.yaml`;
    const loaded = loadRunbookFile(join(ROOT, file));
    expect(lines(loaded.problems)).toEqual([`${file}:${problem}`]);
    expect(loaded.value).toBeUndefined();
  });

  it('requires the name to equal the expected file name', () => {
    const file = 'test/fixtures/runbook-dirs/valid/runbooks/restart_workers.yaml';
    expect(lines(loadRunbookFile(join(ROOT, file), 'restart').problems)).toEqual([
      `${file}:name: must equal the file name "restart" (found "restart_workers")`,
    ]);
  });
});

describe('loadRunbooks', () => {
  it('loads the five shipped runbooks without problems', () => {
    const loaded = loadRunbooks(join(ROOT, 'config'));
    expect(lines(loaded.problems)).toEqual([]);
    expect(Object.keys(loaded.value ?? {})).toEqual([
      'connection_pool_exhaustion',
      'dag_deployment_regression',
      'data_quality_violation',
      'sla_miss',
      'task_temporary_failure',
    ]);
  });

  it('keys runbooks by name', () => {
    const loaded = loadRunbooks(join(ROOT, 'test/fixtures/runbook-dirs/valid'));
    expect(loaded.problems).toEqual([]);
    expect(loaded.value?.restart_workers?.title).toBe('Restart the Airflow workers');
  });

  it('reports every file problem by file name and in document order, and returns no runbooks', () => {
    const dir = 'test/fixtures/runbook-dirs/mixed/runbooks';
    const loaded = loadRunbooks(join(ROOT, 'test/fixtures/runbook-dirs/mixed'));
    expect(lines(loaded.problems)).toEqual([
      `${dir}/b_wrong_name.yaml:name: must equal the file name "b_wrong_name" (found "something_else")`,
      `${dir}/c_two_problems.yaml:steps.0.duration: must be a duration such as "30s", "5m", "1h30m" or "2d"`,
      `${dir}/c_two_problems.yaml:title: must be at most 75 characters (Slack button text)`,
      `${dir}/d_legacy.yml: runbook files must end in .yaml`,
    ]);
    expect(loaded.value).toBeUndefined();
  });

  it('treats a missing runbooks folder as no runbooks', () => {
    expect(loadRunbooks(join(ROOT, 'test/fixtures/runbooks'))).toEqual({ value: {}, problems: [] });
  });
});

describe('checkRunbookReferences', () => {
  const refs = { roles: ['primary', 'secondary', 'team_lead', 'manager'], people: ['alice'] };

  it('finds every approver and mention of the shipped runbooks in the standard on-call roles', () => {
    const loaded = loadRunbooks(join(ROOT, 'config'));
    expect(checkRunbookReferences(loaded.value ?? {}, { ...refs, dir: join(ROOT, 'config') })).toEqual([]);
  });

  const runbook = Runbook.parse({
    name: 'refs',
    title: 'Refs',
    risk: 'safe',
    match: { incident_types: ['task_temporary_failure', 'mystery'] },
    steps: [
      {
        id: 'approve',
        type: 'approval',
        prompt: 'Go?',
        approvers: [{ role: 'primary' }, { role: 'cto' }],
        timeout: '5m',
      },
      { id: 'tell', type: 'notify', message: 'hi', mention: [{ person: 'alice' }, { person: 'bob' }] },
    ],
  });

  it('reports unknown roles and people where they are used', () => {
    expect(lines(checkRunbookReferences({ refs: runbook }, refs))).toEqual([
      'config/runbooks/refs.yaml:steps.0.approvers.1.role: unknown role "cto" (known: manager, primary, secondary, team_lead)',
      'config/runbooks/refs.yaml:steps.1.mention.1.person: unknown person "bob"',
    ]);
  });

  it('reports unknown incident types when the known ones are given', () => {
    const problems = checkRunbookReferences(
      { refs: runbook },
      {
        roles: ['primary', 'cto'],
        people: ['alice', 'bob'],
        incidentTypes: ['task_temporary_failure', 'sla_miss'],
      },
    );
    expect(lines(problems)).toEqual([
      'config/runbooks/refs.yaml:match.incident_types.1: unknown incident type "mystery" (known: sla_miss, task_temporary_failure)',
    ]);
  });
});
