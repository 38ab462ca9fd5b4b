/**
 * The state of one runbook run inside an incident and the pure decisions of the interpreter: which step
 * comes next after an outcome, what the incident status is while a step runs. The workflow carries this
 * state across continue-as-new, so every side effect's result is recorded here and never repeated.
 */
import type { ApprovalState } from './approval';
import type { Runbook, RunbookStep } from './runbook';

export type StepStatus =
  | 'pending'
  | 'running'
  | 'retry_wait'
  | 'awaiting_approval'
  | 'succeeded'
  | 'failed'
  | 'rejected'
  | 'timed_out'
  | 'skipped'
  | 'cancelled';

/** JSON-plain result of a step's activities (e.g. the rollback target chosen before the undo). */
export type StepData = Record<string, string | number | boolean | null | string[]>;

export interface StepState {
  id: string;
  type: RunbookStep['type'];
  status: StepStatus;
  /** Attempts started (actions). */
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  /** Absolute time (epoch ms) of the next attempt while waiting to retry. */
  nextAttemptAt?: number;
  /** Absolute deadline (epoch ms) of a wait step. */
  deadlineAt?: number;
  /** Results recorded between activities of one step (prepare → act), and the final result. */
  data: StepData;
  error?: { type: string; message: string };
  /** `automation`, or `approved by <name>` for actions after an approval. */
  actor?: string;
  approval?: ApprovalState;
}

export type RunStatus = 'running' | 'succeeded' | 'failed' | 'aborted' | 'cancelled';

export interface RunbookRunState {
  /** `<runbook>#<n>`: unique within the incident. */
  runId: string;
  runbook: string;
  title: string;
  risk: Runbook['risk'];
  status: RunStatus;
  startedAt: string;
  startedBy: string;
  finishedAt?: string;
  /** Index of the step being executed (or next to execute). */
  stepIndex: number;
  /** Steps executed so far, counting repeats through goto: bounded to stop endless loops. */
  executions: number;
  variables: Record<string, string>;
  steps: Record<string, StepState>;
  /** Whether the end of the run should escalate the incident. */
  escalate?: boolean;
  outcomeReason?: string;
}

/** Hard cap on step executions in one run (goto loops). */
export const MAX_STEP_EXECUTIONS = 50;

export type StepOutcome = 'succeeded' | 'failed' | 'rejected' | 'timed_out';

/** What the interpreter does after a step. */
export type NextMove =
  | { kind: 'step'; index: number }
  | { kind: 'end'; status: Exclude<RunStatus, 'running' | 'cancelled'>; escalate: boolean; reason: string };

function gotoOrEnd(runbook: Runbook, target: string): NextMove {
  const index = runbook.steps.findIndex((s) => s.id === target);
  return index < 0
    ? { kind: 'end', status: 'failed', escalate: true, reason: `unknown step ${target}` }
    : { kind: 'step', index };
}

/**
 * The next move after a step's outcome, following its `on_failure` / `on_reject` / `on_timeout` policy:
 * escalate ends the run as failed and escalates; abort ends it without escalating; continue moves on;
 * goto jumps. An approval that times out with `proceed` counts as approved.
 */
export function nextMove(runbook: Runbook, index: number, outcome: StepOutcome): NextMove {
  const step = runbook.steps[index];
  if (!step) return { kind: 'end', status: 'succeeded', escalate: false, reason: 'all steps done' };
  const after = (): NextMove =>
    index + 1 < runbook.steps.length
      ? { kind: 'step', index: index + 1 }
      : { kind: 'end', status: 'succeeded', escalate: false, reason: 'all steps done' };
  if (outcome === 'succeeded') return after();
  if (step.type === 'approval') {
    if (outcome === 'timed_out') {
      if (step.on_timeout === 'proceed') return after();
      return step.on_timeout === 'abort'
        ? { kind: 'end', status: 'aborted', escalate: false, reason: `approval ${step.id} timed out` }
        : { kind: 'end', status: 'failed', escalate: true, reason: `approval ${step.id} timed out` };
    }
    const onReject = step.on_reject;
    if (typeof onReject === 'object') return gotoOrEnd(runbook, onReject.goto);
    return onReject === 'abort'
      ? { kind: 'end', status: 'aborted', escalate: false, reason: `approval ${step.id} rejected` }
      : { kind: 'end', status: 'failed', escalate: true, reason: `approval ${step.id} rejected` };
  }
  if (step.type === 'wait') return after();
  const onFailure = step.on_failure;
  if (typeof onFailure === 'object') return gotoOrEnd(runbook, onFailure.goto);
  switch (onFailure) {
    case 'continue':
      return after();
    case 'abort':
      return { kind: 'end', status: 'aborted', escalate: false, reason: `step ${step.id} failed` };
    case 'escalate':
      return { kind: 'end', status: 'failed', escalate: true, reason: `step ${step.id} failed` };
  }
}

/** Incident status while a step of this kind runs. */
export function statusDuring(step: RunbookStep): 'mitigating' | 'awaiting_approval' | 'monitoring' {
  if (step.type === 'approval') return 'awaiting_approval';
  if (step.type === 'check') return 'monitoring';
  return 'mitigating';
}

/** A fresh step state. */
export function newStepState(step: RunbookStep): StepState {
  return { id: step.id, type: step.type, status: 'pending', attempts: 0, data: {} };
}
