import { z } from 'zod';
import { DAG_RUN_STATES, TASK_STATES } from './airflow-state';
import { Duration, durationMs } from './duration';
import { isValidTemplate, renderTemplate } from './template';

/*
 * The runbook definition language (`config/runbooks/<name>.yaml`). Pure and workflow-safe: the incident
 * workflow receives a validated runbook as input and interprets its steps in order. Reference:
 * docs/runbooks.md.
 */

const ID = /^[a-z][a-z0-9_]*$/;
const ID_MESSAGE = 'must be lower_snake_case: a letter, then letters, digits or "_"';
const LABEL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
const HEADER_NAME = /^[A-Za-z0-9-]+$/;
const PLACEHOLDER = /\{\{\s*([^}]+?)\s*\}\}/g;

/** A record whose keys must match `pattern`; zod's own message for a bad key is only "Invalid key in record". */
function recordOf<V extends z.ZodType>(pattern: RegExp, keyMessage: string, value: V) {
  return z.record(z.string().regex(pattern, keyMessage), value, {
    error: (issue) => (issue.code === 'invalid_key' ? keyMessage : undefined),
  });
}

/** Lower-snake-case identifier of a runbook or a step. */
export const StepId = z.string().regex(ID, ID_MESSAGE).max(64, 'must be at most 64 characters');

/** A duration that must be longer than zero. */
const PositiveDuration = Duration.refine(
  (s) => !Duration.safeParse(s).success || durationMs(s) > 0,
  'must be longer than 0s',
);

const TEMPLATE_MESSAGE = 'is not a valid template (use e.g. "{{ dag_id }}")';

/** A text rendered at run time from incident labels and runbook params: `"{{ dag_id }}"`. */
const Template = z.string().min(1, 'must not be empty').refine(isValidTemplate, TEMPLATE_MESSAGE);

/**
 * True when every `{{` in `text` opens a well-formed placeholder. Unlike {@link isValidTemplate} single
 * braces are allowed, so PromQL selectors (`x{dag_id="{{ dag_id }}"}`) and JSON bodies can carry templates.
 */
export function isValidEmbeddedTemplate(text: string): boolean {
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (!isValidTemplate(match[0])) return false;
  }
  return !text.replace(PLACEHOLDER, '').includes('{{');
}

const EmbeddedTemplate = z
  .string()
  .min(1, 'must not be empty')
  .refine(isValidEmbeddedTemplate, TEMPLATE_MESSAGE);

/** Adds an issue for every string inside a JSON value that is not a valid embedded template. */
function checkTemplateLeaves(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (typeof value === 'string') {
    if (!isValidEmbeddedTemplate(value)) ctx.addIssue({ code: 'custom', path, message: TEMPLATE_MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkTemplateLeaves(item, [...path, i], ctx));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) checkTemplateLeaves(item, [...path, key], ctx);
  }
}

/** A superRefine that requires exactly one of `keys` to be present. */
function exactlyOne<T extends object>(...keys: (keyof T & string)[]) {
  return (value: T, ctx: z.RefinementCtx) => {
    if (keys.filter((k) => value[k] !== undefined).length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `exactly one of ${keys.map((k) => `"${k}"`).join(' or ')} must be set`,
      });
    }
  };
}

const PositiveInt = z.number().int('must be a whole number').positive('must be greater than 0');

/** Someone who may approve or be mentioned: an on-call role or a person, both from oncall.yaml. */
export const ContactRef = z
  .strictObject({ role: z.string().min(1).optional(), person: z.string().min(1).optional() })
  .superRefine(exactlyOne('role', 'person'));
export type ContactRef = z.infer<typeof ContactRef>;

// ---------------------------------------------------------------------------------------------------
// Action catalogue: each action's `with` is a strict schema of its own.

const ClearTaskParams = z.strictObject({
  dag_id: Template,
  task_id: Template,
  /** Default: the latest failed run of the DAG. */
  dag_run_id: Template.optional(),
  include_downstream: z.boolean().default(false),
  wait_for_completion: z.boolean().default(true),
  completion_timeout: PositiveDuration.default('30m'),
});

const TriggerDagParams = z.strictObject({
  dag_id: Template,
  conf: z
    .record(z.string(), z.unknown())
    .superRefine((conf, ctx) => checkTemplateLeaves(conf, [], ctx))
    .optional(),
});

const DagSelection = z
  .strictObject({
    dag_ids: z.array(Template).min(1, 'must list at least one DAG').optional(),
    /** Every DAG that consumes a dataset/asset this DAG produces. */
    downstream_of: Template.optional(),
  })
  .superRefine(exactlyOne('dag_ids', 'downstream_of'));

const SetPoolSlotsParams = z
  .strictObject({ pool: Template, slots: PositiveInt.optional(), increase_by: PositiveInt.optional() })
  .superRefine(exactlyOne('slots', 'increase_by'));

const Deployment = { namespace: Template, deployment: Template };

const RolloutUndoParams = z.strictObject({ ...Deployment, to_revision: PositiveInt.optional() });
const RolloutStatusParams = z.strictObject({ ...Deployment, timeout: PositiveDuration.default('5m') });
const RolloutRestartParams = z.strictObject(Deployment);
const ScaleParams = z
  .strictObject({
    ...Deployment,
    replicas: z.number().int('must be a whole number').min(0, 'must be 0 or more').optional(),
    increase_by: PositiveInt.optional(),
  })
  .superRefine(exactlyOne('replicas', 'increase_by'));

const SlackNotifyParams = z.strictObject({ message: Template, channel: Template.optional() });

const EnvName = z.string().regex(ENV_NAME, 'must be an environment variable name such as "DATA_API_URL"');

const HttpRequestParams = z
  .strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** Environment variable holding the base URL; URLs may embed credentials, so never in YAML. */
    url_env: EnvName,
    /** Appended to the base URL. */
    path: Template.optional(),
    headers_env: recordOf(HEADER_NAME, 'must be an HTTP header name', EnvName).optional(),
    body: z
      .union([z.string(), z.array(z.unknown()), z.record(z.string(), z.unknown())], {
        error: 'must be an object, an array or a string',
      })
      .superRefine((body, ctx) => checkTemplateLeaves(body, [], ctx))
      .optional(),
    /** Statuses that count as success; default any 2xx. */
    expect_status: z
      .array(z.number().int().min(100, 'must be an HTTP status').max(599, 'must be an HTTP status'))
      .min(1)
      .optional(),
  })
  .superRefine((params, ctx) => {
    if (params.method === 'GET' && params.body !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['body'], message: 'a GET request has no body' });
    }
  });

/** The fixed action catalogue. YAML names one of these; it never names an activity. */
export const ActionName = z.enum([
  'airflow.clear_task',
  'airflow.trigger_dag',
  'airflow.pause_dag',
  'airflow.unpause_dag',
  'airflow.set_pool_slots',
  'kubectl.rollout_undo',
  'kubectl.rollout_status',
  'kubectl.rollout_restart',
  'kubectl.scale',
  'slack.notify',
  'http.request',
]);
export type ActionName = z.infer<typeof ActionName>;

// ---------------------------------------------------------------------------------------------------
// Shared step parts.

/** What to do when a step fails for good (after its retries): default `escalate`. */
export const OnFailure = z.union(
  [z.enum(['escalate', 'continue', 'abort']), z.strictObject({ goto: StepId })],
  { error: 'must be escalate, continue, abort or { goto: <step id> }' },
);
export type OnFailure = z.infer<typeof OnFailure>;

/** What to do when an approver rejects: default `abort`. */
export const OnReject = z.union([z.enum(['abort', 'escalate']), z.strictObject({ goto: StepId })], {
  error: 'must be abort, escalate or { goto: <step id> }',
});
export type OnReject = z.infer<typeof OnReject>;

/** What to do when nobody decides before the approval's timeout: default `escalate`. */
export const OnTimeout = z.enum(['escalate', 'abort', 'proceed']);
export type OnTimeout = z.infer<typeof OnTimeout>;

/**
 * Retries of a failed action: an explicit schedule of delays (`[30s, 2m, 5m]` = up to 3 retries, 4
 * attempts), or exponential backoff where `max_attempts` counts the first attempt too.
 */
export const RetrySpec = z
  .strictObject({
    schedule: z
      .array(PositiveDuration)
      .min(1, 'needs at least one delay (omit retry for one attempt)')
      .optional(),
    exponential: z
      .strictObject({
        initial: PositiveDuration,
        factor: z.number().min(1, 'must be at least 1').default(2),
        max_interval: PositiveDuration.optional(),
        max_attempts: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100),
      })
      .superRefine((e, ctx) => {
        if (e.max_interval !== undefined && durationMs(e.max_interval) < durationMs(e.initial)) {
          ctx.addIssue({
            code: 'custom',
            path: ['max_interval'],
            message: `must be at least "initial" (${e.initial})`,
          });
        }
      })
      .optional(),
  })
  .superRefine(exactlyOne('schedule', 'exponential'));
export type RetrySpec = z.infer<typeof RetrySpec>;

const stepBase = { id: StepId };

function actionStep<A extends ActionName, P extends z.ZodType>(action: A, params: P) {
  return z.strictObject({
    ...stepBase,
    type: z.literal('action'),
    action: z.literal(action),
    with: params,
    /** Default: no retry (one attempt). */
    retry: RetrySpec.optional(),
    /** Per attempt. Default: see {@link actionTimeoutMs}. */
    timeout: PositiveDuration.optional(),
    on_failure: OnFailure.default('escalate'),
    /** One line shown in the Temporal Web UI for the activity (template). */
    summary: Template.optional(),
  });
}

const KNOWN_ACTIONS = ActionName.options.join(', ');

/** An `action` step: one call from the catalogue, with retries and a failure policy. */
export const ActionStep = z.discriminatedUnion(
  'action',
  [
    actionStep('airflow.clear_task', ClearTaskParams),
    actionStep('airflow.trigger_dag', TriggerDagParams),
    actionStep('airflow.pause_dag', DagSelection),
    actionStep('airflow.unpause_dag', DagSelection),
    actionStep('airflow.set_pool_slots', SetPoolSlotsParams),
    actionStep('kubectl.rollout_undo', RolloutUndoParams),
    actionStep('kubectl.rollout_status', RolloutStatusParams),
    actionStep('kubectl.rollout_restart', RolloutRestartParams),
    actionStep('kubectl.scale', ScaleParams),
    actionStep('slack.notify', SlackNotifyParams),
    actionStep('http.request', HttpRequestParams),
  ],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const action = (issue.input as { action?: unknown } | undefined)?.action;
      return action === undefined
        ? `an action step needs "action" (known: ${KNOWN_ACTIONS})`
        : `unknown action ${JSON.stringify(action)} (known: ${KNOWN_ACTIONS})`;
    },
  },
);
export type ActionStep = z.infer<typeof ActionStep>;

/** The validated `with` of each action. */
export type ActionParams = { [A in ActionName]: Extract<ActionStep, { action: A }>['with'] };

// Compile-time guard: the action enum and the step union list the same actions.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const catalogueIsComplete: Same<ActionName, ActionStep['action']> = true;
void catalogueIsComplete;

/** An `approval` step: a manual gate that waits for `approve` signals from the listed approvers. */
export const ApprovalStep = z
  .strictObject({
    ...stepBase,
    type: z.literal('approval'),
    prompt: Template,
    approvers: z
      .array(ContactRef, {
        error: (issue) =>
          issue.input === undefined ? 'an approval step needs at least one approver' : undefined,
      })
      .min(1, 'an approval step needs at least one approver'),
    min_approvals: PositiveInt.default(1),
    /** Where the request is announced. */
    channels: z
      .array(z.enum(['slack', 'pagerduty']))
      .min(1)
      .default(['slack']),
    timeout: PositiveDuration,
    on_timeout: OnTimeout.default('escalate'),
    on_reject: OnReject.default('abort'),
  })
  .superRefine((step, ctx) => {
    if (step.approvers.length > 0 && step.min_approvals > step.approvers.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['min_approvals'],
        message: `needs ${step.min_approvals} approvals but only ${step.approvers.length} approvers are listed`,
      });
    }
  });
export type ApprovalStep = z.infer<typeof ApprovalStep>;

/** A condition polled by a check: a PromQL expression that must return a non-empty result, or an Airflow state. */
export const CheckSpec = z
  .strictObject({
    promql: EmbeddedTemplate.optional(),
    airflow: z
      .strictObject({
        dag_id: Template,
        /** Without a task id the DAG run's state is checked. */
        task_id: Template.optional(),
        /** Default: the most recent DAG run. */
        dag_run_id: Template.optional(),
        state: z.enum(TASK_STATES),
      })
      .superRefine((a, ctx) => {
        if (a.task_id === undefined && !(DAG_RUN_STATES as readonly string[]).includes(a.state)) {
          ctx.addIssue({
            code: 'custom',
            path: ['state'],
            message: `a DAG run state is one of ${DAG_RUN_STATES.join(', ')} (set task_id to check a task)`,
          });
        }
      })
      .optional(),
  })
  .superRefine(exactlyOne('promql', 'airflow'));
export type CheckSpec = z.infer<typeof CheckSpec>;

/** A `check` step: a condition that must hold continuously for `for`, reached within `within`. */
export const CheckStep = z
  .strictObject({
    ...stepBase,
    type: z.literal('check'),
    check: CheckSpec,
    for: Duration.default('0s'),
    within: PositiveDuration,
    interval: PositiveDuration.default('30s'),
    on_failure: OnFailure.default('escalate'),
  })
  .superRefine((step, ctx) => {
    if (durationMs(step.within) < durationMs(step.for)) {
      ctx.addIssue({ code: 'custom', path: ['within'], message: `must be at least "for" (${step.for})` });
    }
  });
export type CheckStep = z.infer<typeof CheckStep>;

/** A `notify` step: a message in the incident's Slack thread. A failed notification does not stop the runbook by default. */
export const NotifyStep = z.strictObject({
  ...stepBase,
  type: z.literal('notify'),
  message: Template,
  channels: z
    .array(z.enum(['slack']))
    .min(1)
    .default(['slack']),
  mention: z.array(ContactRef).default([]),
  on_failure: OnFailure.default('continue'),
});
export type NotifyStep = z.infer<typeof NotifyStep>;

/** A `wait` step: a durable timer. */
export const WaitStep = z.strictObject({ ...stepBase, type: z.literal('wait'), duration: PositiveDuration });
export type WaitStep = z.infer<typeof WaitStep>;

const STEP_TYPES = 'action, approval, check, notify, wait';

/** One step of a runbook, discriminated by `type`. */
export const RunbookStep = z.discriminatedUnion(
  'type',
  [ActionStep, ApprovalStep, CheckStep, NotifyStep, WaitStep],
  {
    error: (issue) => {
      if (issue.code !== 'invalid_union') return undefined;
      const type = (issue.input as { type?: unknown } | undefined)?.type;
      return type === undefined
        ? `a step needs "type" (known: ${STEP_TYPES})`
        : `unknown step type ${JSON.stringify(type)} (known: ${STEP_TYPES})`;
    },
  },
);
export type RunbookStep = z.infer<typeof RunbookStep>;

// ---------------------------------------------------------------------------------------------------
// The runbook.

/** `config/runbooks/<name>.yaml`. */
export const Runbook = z
  .strictObject({
    /** Equals the file name without `.yaml` (checked by the loader). */
    name: StepId,
    /** Suggestion and Slack button text. */
    title: z
      .string()
      .min(1, 'must not be empty')
      .max(75, 'must be at most 75 characters (Slack button text)'),
    description: z.string().default(''),
    /** `risky` runbooks never start without a human: see the cross-checks. */
    risk: z.enum(['safe', 'risky']),
    /** Start automatically when routing selects it; otherwise it is offered as a suggestion. */
    auto_start: z.boolean().default(false),
    match: z.strictObject({
      incident_types: z.array(z.string().min(1)).min(1, 'must list at least one incident type'),
      /** Labels that must equal these values. */
      labels: recordOf(LABEL_NAME, 'must be a label name', z.string()).default({}),
    }),
    /** Template variables rendered once at start from the incident labels; they shadow labels of the same name. */
    params: recordOf(LABEL_NAME, 'must be a label name', Template).default({}),
    /** Prevention items for the postmortem. */
    prevention: z.array(z.string().min(1)).default([]),
    steps: z.array(RunbookStep).min(1, 'a runbook needs at least one step').max(50),
  })
  .superRefine((runbook, ctx) => {
    const first = new Map<string, number>();
    runbook.steps.forEach((step, i) => {
      const seen = first.get(step.id);
      if (seen !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, 'id'],
          message: `duplicate step id "${step.id}" (first at steps.${seen})`,
        });
      } else first.set(step.id, i);
    });
    runbook.steps.forEach((step, i) => {
      for (const [field, target] of gotos(step)) {
        const path = ['steps', i, field, 'goto'];
        if (target === step.id) ctx.addIssue({ code: 'custom', path, message: 'a step cannot go to itself' });
        else if (!first.has(target))
          ctx.addIssue({ code: 'custom', path, message: `unknown step "${target}"` });
      }
      if (step.type === 'action' && step.timeout !== undefined) {
        const own = ownWait(step);
        if (own && durationMs(step.timeout) <= durationMs(own.value)) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'timeout'],
            message: `must be longer than with.${own.field} (${own.value}), which the action waits for`,
          });
        }
      }
    });
    if (runbook.risk === 'risky' && runbook.auto_start) checkRiskyAutoStart(runbook, ctx);
  });
export type Runbook = z.infer<typeof Runbook>;

/** The `goto` targets of a step, by field. */
function gotos(step: RunbookStep): [string, string][] {
  const out: [string, string][] = [];
  if ('on_failure' in step && typeof step.on_failure === 'object')
    out.push(['on_failure', step.on_failure.goto]);
  if (step.type === 'approval' && typeof step.on_reject === 'object')
    out.push(['on_reject', step.on_reject.goto]);
  return out;
}

/**
 * A risky runbook that starts by itself must pass a human gate before it acts: an approval step before the
 * first action, which does not proceed on timeout and which no goto jumps over.
 */
function checkRiskyAutoStart(runbook: Runbook, ctx: z.RefinementCtx): void {
  const firstAction = runbook.steps.findIndex((s) => s.type === 'action');
  if (firstAction < 0) return;
  const gate = runbook.steps.findIndex((s) => s.type === 'approval');
  if (gate < 0 || gate > firstAction) {
    ctx.addIssue({
      code: 'custom',
      path: ['auto_start'],
      message:
        `a risky runbook that starts automatically needs an approval step before its first action ` +
        `("${runbook.steps[firstAction]?.id}" at steps.${firstAction}); add one or set auto_start: false`,
    });
    return;
  }
  const approval = runbook.steps[gate];
  if (approval?.type === 'approval' && approval.on_timeout === 'proceed') {
    ctx.addIssue({
      code: 'custom',
      path: ['steps', gate, 'on_timeout'],
      message:
        'a risky runbook that starts automatically cannot proceed without approval; use escalate or abort',
    });
  }
  runbook.steps.slice(0, gate).forEach((step, i) => {
    for (const [field, target] of gotos(step)) {
      if (runbook.steps.findIndex((s) => s.id === target) > gate) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', i, field, 'goto'],
          message: `jumps over the approval step "${approval?.id}" of a risky runbook that starts automatically`,
        });
      }
    }
  });
}

/** The duration an action itself waits for (inside its activity), if any. */
function ownWait(step: ActionStep): { field: string; value: Duration } | undefined {
  if (step.action === 'airflow.clear_task' && step.with.wait_for_completion) {
    return { field: 'completion_timeout', value: step.with.completion_timeout };
  }
  if (step.action === 'kubectl.rollout_status') return { field: 'timeout', value: step.with.timeout };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers for the interpreter.

/** Per-attempt timeout of an action step without `timeout`, unless the action waits itself. */
export const DEFAULT_ACTION_TIMEOUT = '10m';
const OWN_WAIT_MARGIN_MS = 5 * 60_000;

/**
 * The per-attempt timeout of an action step in milliseconds: `timeout` when set; otherwise, for actions that
 * wait (`airflow.clear_task` with `wait_for_completion`, `kubectl.rollout_status`), their own wait plus 5
 * minutes; otherwise {@link DEFAULT_ACTION_TIMEOUT}.
 */
export function actionTimeoutMs(step: ActionStep): number {
  if (step.timeout !== undefined) return durationMs(step.timeout);
  const own = ownWait(step);
  return own ? durationMs(own.value) + OWN_WAIT_MARGIN_MS : durationMs(DEFAULT_ACTION_TIMEOUT);
}

/**
 * The delays before each retry of an action, in milliseconds; its length is the number of retries (attempts
 * minus one). No retry spec: `[]`. Explicit schedule: as given. Exponential: `initial × factor^n`, capped at
 * `max_interval`, for `max_attempts − 1` retries.
 */
export function retryDelaysMs(retry: RetrySpec | undefined): number[] {
  if (!retry) return [];
  if (retry.schedule) return retry.schedule.map(durationMs);
  const e = retry.exponential;
  if (!e) return [];
  const cap = e.max_interval === undefined ? Infinity : durationMs(e.max_interval);
  const initial = durationMs(e.initial);
  return Array.from({ length: e.max_attempts - 1 }, (_, n) =>
    Math.min(Math.round(initial * e.factor ** n), cap),
  );
}

/** True when routing may select the runbook for an incident: its type is listed and every label matches. */
export function runbookMatches(
  runbook: Runbook,
  incident: { incidentType: string; labels: Readonly<Record<string, string>> },
): boolean {
  if (!runbook.match.incident_types.includes(incident.incidentType)) return false;
  return Object.entries(runbook.match.labels).every(([name, value]) => incident.labels[name] === value);
}

/** Index of the step with `id`, or -1. */
export function stepIndex(runbook: Runbook, id: string): number {
  return runbook.steps.findIndex((s) => s.id === id);
}

/**
 * The template variables of a runbook run: the incident labels, overlaid with the runbook's params rendered
 * once from those labels. `missing` names params whose template could not be filled (no label, no default).
 */
export function runbookVariables(
  runbook: Runbook,
  labels: Readonly<Record<string, string>>,
): { variables: Record<string, string>; missing: string[] } {
  const variables: Record<string, string> = { ...labels };
  const missing: string[] = [];
  for (const [name, template] of Object.entries(runbook.params)) {
    const value = renderTemplate(template, labels);
    if (value === undefined) missing.push(name);
    else variables[name] = value;
  }
  return { variables, missing };
}

/** True when an `http.request` answered with an expected status (default: any 2xx). */
export function httpStatusExpected(params: ActionParams['http.request'], status: number): boolean {
  return params.expect_status ? params.expect_status.includes(status) : status >= 200 && status < 300;
}
