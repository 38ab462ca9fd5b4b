import type { ActivityOptions } from '@temporalio/workflow';
import type { ActionStep } from '../../domain/runbook';
import type { RunbookRunState, StepState } from '../../domain/runbook-run';
import { durationMs } from '../../domain/duration';
import type { SizeChange } from '../../domain/relative-change';
import { renderTemplate } from '../../domain/template';
import { actions, kube, quick, withTimeout } from './proxies';
import { recordsPauseTargets, setDagsPaused } from './dag-pause';
import { act, now, type Runtime } from './runtime';
import { scaleDeployment, setPoolSlots, usesAbsoluteTarget } from './size-change';

/** A step input that cannot be built (a template needs a missing label): the step fails, not the workflow. */
export class StepInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepInputError';
  }
}

function renderOrThrow(run: RunbookRunState, template: string, field: string): string {
  const value = renderTemplate(template, run.variables);
  if (value === undefined)
    throw new StepInputError(`${field}: "${template}" needs a label the incident does not have`);
  return value;
}

/** Renders every string leaf of a JSON value (conf, bodies). */
function renderJson(run: RunbookRunState, value: unknown, field: string): unknown {
  if (typeof value === 'string') return renderOrThrow(run, value, field);
  if (Array.isArray(value)) return value.map((v, i) => renderJson(run, v, `${field}.${i}`));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, renderJson(run, v, `${field}.${k}`)]),
    );
  }
  return value;
}

/** The `with` of a sizing step as a change: its absolute field (`absoluteField`), or `increase_by`. */
function sizeChange(
  absolute: number | undefined,
  increaseBy: number | undefined,
  absoluteField: string,
): SizeChange {
  if (absolute !== undefined) return { to: absolute };
  if (increaseBy !== undefined) return { increaseBy };
  throw new StepInputError(`${absoluteField} or with.increase_by is required`);
}

/** Characters Airflow run ids and restart keys may carry. */
function safeId(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 180);
}

/** DAGs an earlier pause step of this run paused (and were not paused before), for an exact resume. */
function dagsPausedEarlier(run: RunbookRunState): string[] {
  const out: string[] = [];
  for (const st of Object.values(run.steps)) {
    const changed = st.data.pausedDagIds;
    if (Array.isArray(changed)) out.push(...changed);
  }
  return [...new Set(out)];
}

/**
 * Executes one action step attempt. YAML never names an activity: this exhaustive switch maps each catalogue
 * action to a fixed activity. Results needed by later attempts (rollback target, size targets, DAGs paused)
 * are recorded in `st.data` before the side effect that depends on them, so no retry, crash or
 * continue-as-new repeats or re-decides a side effect.
 */
export async function runAction(
  rt: Runtime,
  run: RunbookRunState,
  step: ActionStep,
  st: StepState,
  timeoutMs: number,
  summary: string,
): Promise<void> {
  const opts: ActivityOptions = withTimeout(timeoutMs, summary);
  const key = `${rt.state.incidentId}/${rt.state.openedAt}/${run.runId}/${step.id}`;
  switch (step.action) {
    case 'airflow.clear_task': {
      const w = step.with;
      const dagId = renderOrThrow(run, w.dag_id, 'with.dag_id');
      const taskId = renderOrThrow(run, w.task_id, 'with.task_id');
      const dagRunId = w.dag_run_id
        ? renderOrThrow(run, w.dag_run_id, 'with.dag_run_id')
        : typeof st.data.dagRunId === 'string'
          ? st.data.dagRunId
          : (run.variables.run_id ?? run.variables.dag_run_id);
      const completionTimeoutMs = durationMs(w.completion_timeout);
      const result = await act(rt, () =>
        actions.airflowClearTask.executeWithOptions(
          { ...opts, heartbeatTimeout: '60s', retry: { maximumAttempts: 3 } },
          [
            {
              key: `${key}/${st.attempts}`,
              dagId,
              taskId,
              ...(dagRunId ? { dagRunId } : {}),
              includeDownstream: w.include_downstream,
              waitForCompletion: w.wait_for_completion,
              completionTimeoutMs,
              pollIntervalMs: 15_000,
            },
          ],
        ),
      );
      st.data.dagRunId = result.dagRunId;
      st.data.action = result.action;
      st.data.state = result.state;
      return;
    }
    case 'airflow.trigger_dag': {
      const dagId = renderOrThrow(run, step.with.dag_id, 'with.dag_id');
      const dagRunId = `incidentflow__${safeId(rt.state.incidentId)}__${safeId(run.runId)}__${step.id}`;
      const conf = step.with.conf
        ? (renderJson(run, step.with.conf, 'with.conf') as Record<string, unknown>)
        : undefined;
      const result = await act(rt, () =>
        actions.airflowTriggerDag.executeWithOptions(opts, [
          {
            dagId,
            dagRunId,
            ...(conf ? { conf } : {}),
            note: `incidentflow ${rt.state.number ?? rt.state.incidentId}`,
          },
        ]),
      );
      st.data.dagRunId = result.dagRunId;
      st.data.alreadyExisted = result.alreadyExisted;
      return;
    }
    case 'airflow.pause_dag':
    case 'airflow.unpause_dag': {
      const paused = step.action === 'airflow.pause_dag';
      if (!Array.isArray(st.data.dagIds)) {
        let dagIds: string[];
        if (step.with.dag_ids) {
          dagIds = step.with.dag_ids.map((d, i) => renderOrThrow(run, d, `with.dag_ids.${i}`));
        } else if (!paused && dagsPausedEarlier(run).length > 0) {
          dagIds = dagsPausedEarlier(run);
        } else {
          const upstream = renderOrThrow(run, step.with.downstream_of!, 'with.downstream_of');
          dagIds = (await act(rt, () => quick.airflowDownstreamDags({ dagId: upstream }))).dagIds;
        }
        st.data.dagIds = dagIds;
      }
      const dagIds = st.data.dagIds;
      if (dagIds.length === 0) {
        st.data.changed = 0;
        return;
      }
      if (recordsPauseTargets()) {
        await setDagsPaused(rt, st, dagIds, paused, opts);
        return;
      }
      const result = await act(rt, () =>
        actions.airflowSetPaused.executeWithOptions(opts, [{ dagIds, paused }]),
      );
      // Only DAGs this step changed are resumed later: a DAG paused by someone else stays paused.
      const changed = result.changes.filter((c) => c.previous !== c.current).map((c) => c.dagId);
      if (paused) st.data.pausedDagIds = changed;
      st.data.changed = changed.length;
      return;
    }
    case 'airflow.set_pool_slots': {
      const pool = renderOrThrow(run, step.with.pool, 'with.pool');
      if (usesAbsoluteTarget()) {
        const change = sizeChange(step.with.slots, step.with.increase_by, 'with.slots');
        await setPoolSlots(rt, st, pool, change, opts);
        return;
      }
      const previous = typeof st.data.previous === 'number' ? st.data.previous : undefined;
      const result = await act(rt, () =>
        actions.airflowSetPoolSlots.executeWithOptions(opts, [
          {
            pool,
            ...(step.with.slots !== undefined
              ? { slots: step.with.slots }
              : { increaseBy: step.with.increase_by! }),
            ...(previous !== undefined ? { previous } : {}),
          },
        ]),
      );
      st.data.previous = result.previous;
      st.data.current = result.current;
      return;
    }
    case 'kubectl.rollout_undo': {
      const namespace = renderOrThrow(run, step.with.namespace, 'with.namespace');
      const deployment = renderOrThrow(run, step.with.deployment, 'with.deployment');
      if (typeof st.data.targetReplicaSet !== 'string') {
        // Decide the target once and record it: after the undo, "previous" would point back at the bad one.
        const plan = await act(rt, () =>
          kube.kubePrepareRollback.executeWithOptions(
            { summary: `read rollout history of deployment/${deployment}` },
            [
              {
                namespace,
                deployment,
                ...(step.with.to_revision ? { toRevision: step.with.to_revision } : {}),
              },
            ],
          ),
        );
        st.data.targetReplicaSet = plan.targetReplicaSet;
        st.data.targetRevision = plan.targetRevision;
        st.data.fromRevision = plan.currentRevision;
        st.data.targetImages = plan.images;
        st.data.currentImages = plan.currentImages;
      }
      const targetReplicaSet = st.data.targetReplicaSet;
      const undo = await act(rt, () =>
        kube.kubeRolloutUndo.executeWithOptions(
          { ...opts, summary: `kubectl rollout undo deployment/${deployment}` },
          [{ namespace, deployment, targetReplicaSet }],
        ),
      );
      st.data.skipped = undo.skipped;
      return;
    }
    case 'kubectl.rollout_status': {
      const namespace = renderOrThrow(run, step.with.namespace, 'with.namespace');
      const deployment = renderOrThrow(run, step.with.deployment, 'with.deployment');
      const waitMs = durationMs(step.with.timeout);
      const status = await act(rt, () =>
        kube.kubeRolloutStatus.executeWithOptions(
          {
            ...opts,
            startToCloseTimeout: waitMs + 60_000,
            heartbeatTimeout: '60s',
            summary: `kubectl rollout status deployment/${deployment}`,
          },
          [{ namespace, deployment, timeoutMs: waitMs }],
        ),
      );
      st.data.message = status.message;
      return;
    }
    case 'kubectl.rollout_restart': {
      const namespace = renderOrThrow(run, step.with.namespace, 'with.namespace');
      const deployment = renderOrThrow(run, step.with.deployment, 'with.deployment');
      const result = await act(rt, () =>
        kube.kubeRolloutRestart.executeWithOptions({ ...opts, summary: `restart deployment/${deployment}` }, [
          { namespace, deployment, restartKey: safeId(key) },
        ]),
      );
      st.data.restarted = result.restarted;
      return;
    }
    case 'kubectl.scale': {
      const namespace = renderOrThrow(run, step.with.namespace, 'with.namespace');
      const deployment = renderOrThrow(run, step.with.deployment, 'with.deployment');
      if (usesAbsoluteTarget()) {
        const change = sizeChange(step.with.replicas, step.with.increase_by, 'with.replicas');
        await scaleDeployment(rt, st, { namespace, deployment }, change, opts);
        return;
      }
      // Before the patch: a target recorded only after the activity succeeded, so a retry after a
      // success that was never reported scaled again.
      const replicas =
        typeof st.data.targetReplicas === 'number' ? st.data.targetReplicas : step.with.replicas;
      const result = await act(rt, () =>
        kube.kubeScale.executeWithOptions({ ...opts, summary: `kubectl scale deployment/${deployment}` }, [
          {
            namespace,
            deployment,
            ...(replicas !== undefined ? { replicas } : { increaseBy: step.with.increase_by! }),
          },
        ]),
      );
      st.data.previous = result.previous;
      st.data.targetReplicas = result.current;
      return;
    }
    case 'slack.notify': {
      const text = renderOrThrow(run, step.with.message, 'with.message');
      const slack = rt.state.slack;
      const channel = step.with.channel
        ? renderOrThrow(run, step.with.channel, 'with.channel')
        : slack?.channel;
      if (!rt.features.slack || !channel) {
        st.data.delivered = 'timeline only (Slack not configured)';
        return;
      }
      // The step's key makes the post idempotent: a retry after a lost response finds the message.
      const tries = (typeof st.data.slackTries === 'number' ? st.data.slackTries : 0) + 1;
      st.data.slackTries = tries;
      const firstTriedAt = typeof st.data.slackFirstTriedAt === 'number' ? st.data.slackFirstTriedAt : now();
      st.data.slackFirstTriedAt = firstTriedAt;
      const ref = await act(rt, () =>
        quick.notifySlack({
          channel,
          text,
          ...(!step.with.channel && slack?.ts ? { threadTs: slack.ts } : {}),
          idempotencyKey: key,
          firstTriedAt,
          retried: tries > 1,
        }),
      );
      st.data.slackTs = ref.ts;
      return;
    }
    case 'http.request': {
      const w = step.with;
      const path = w.path ? renderOrThrow(run, w.path, 'with.path') : undefined;
      const body = w.body !== undefined ? renderJson(run, w.body, 'with.body') : undefined;
      const result = await act(rt, () =>
        actions.httpRequest.executeWithOptions(opts, [
          {
            method: w.method,
            urlEnv: w.url_env,
            ...(path ? { path } : {}),
            ...(w.headers_env ? { headersEnv: w.headers_env } : {}),
            ...(body !== undefined ? { body } : {}),
            ...(w.expect_status ? { expectStatus: w.expect_status } : {}),
            idempotencyKey: key,
          },
        ]),
      );
      st.data.status = result.status;
      return;
    }
  }
}
