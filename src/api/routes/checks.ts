import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { type CheckSet, formatTableName, summarizeCheckSetResult } from '../../domain/data-quality';
import { formatDuration } from '../../domain/duration';
import { isTemporalUnavailable } from '../../temporal/client';
import { dataQualityScheduleId } from '../../temporal/schedules';
import type { dataQualityWorkflow } from '../../workflows';
import type { DataQualityWorkflowInput, DataQualityWorkflowResult } from '../../workflows/data-quality';
import type { AppDeps, CheckRunDeps } from '../deps';
import { HttpError, parseOr400 } from '../errors';

const Ident = z
  .string()
  .min(1)
  .max(250)
  .regex(/^[^\s/]+$/, 'must not contain spaces or "/"');

/**
 * `POST /api/v1/checks/{name}/run` body: empty, or what the Airflow callbacks send
 * (`{"source":"airflow","dag_id","task_id","run_id"}`, every field optional). Strict.
 */
export const CheckRunRequest = z.strictObject({
  source: z.enum(['airflow', 'manual']).optional(),
  dag_id: Ident.optional(),
  task_id: Ident.optional(),
  run_id: z.string().min(1).max(250).optional(),
});
export type CheckRunRequest = z.infer<typeof CheckRunRequest>;

const RunQuery = z.object({ wait: z.enum(['true', 'false']).default('false') });

const DEFAULT_WAIT_MS = 60_000;
const START_TIMEOUT_MS = 5_000;

/**
 * The workflow id of an on-demand run: per Airflow DAG run when the callback names one (a repeated
 * callback joins or finds the same run), else per request time.
 */
export function checkRunWorkflowId(checkSet: string, request: CheckRunRequest, nowIso: string): string {
  if (request.run_id !== undefined) {
    const dag = request.dag_id !== undefined ? `${request.dag_id}:` : '';
    return `data-quality:${checkSet}:airflow:${dag}${request.run_id}`;
  }
  return `data-quality:${checkSet}:${nowIso}`;
}

function requireChecks(deps: AppDeps): CheckRunDeps {
  if (!deps.checks)
    throw new HttpError(503, 'checks_unavailable', 'data-quality checks are not available in this process');
  return deps.checks;
}

function lookup(checks: CheckRunDeps, name: string): CheckSet {
  const set = Object.hasOwn(checks.checkSets(), name) ? checks.checkSets()[name] : undefined;
  if (!set) throw new HttpError(404, 'not_found', `unknown data-quality check set "${name}"`);
  return set;
}

async function temporalCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isTemporalUnavailable(err))
      throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable');
    throw err;
  }
}

/**
 * Data-quality checks: `GET /api/v1/checks` lists the check sets with their schedules and last results;
 * `POST /api/v1/checks/{name}/run` runs one now (202 with the workflow id; `?wait=true` waits up to 60 s for
 * the result). Bearer-authenticated like the rest of the API.
 */
export function registerCheckRoutes(app: FastifyInstance, deps: AppDeps): void {
  const auth = { onRequest: deps.requireIngestToken('api') };

  app.get('/api/v1/checks', auth, async () => {
    const checks = requireChecks(deps);
    const sets = Object.values(checks.checkSets()).sort((a, b) => a.name.localeCompare(b.name));
    const checkSets = [];
    for (const set of sets) {
      const [last] = checks.results ? await checks.results.recentRuns({ checkSet: set.name, limit: 1 }) : [];
      checkSets.push({
        name: set.name,
        ...(set.description ? { description: set.description } : {}),
        table: formatTableName(set.table),
        schedule: set.schedule,
        scheduleId: dataQualityScheduleId(set.name),
        severity: set.severity,
        ...(set.dag_id ? { dagId: set.dag_id } : {}),
        downstreamDags: set.downstream_dags,
        owners: set.owners,
        checks: set.checks.map((c) => c.name),
        ...(last
          ? {
              lastRun: {
                runKey: last.runKey,
                outcome: last.outcome,
                startedAt: last.startedAt,
                finishedAt: last.finishedAt,
                summary: summarizeCheckSetResult(last),
              },
            }
          : {}),
      });
    }
    return { checkSets };
  });

  app.post<{ Params: { name: string } }>('/api/v1/checks/:name/run', auth, async (req, reply) => {
    const checks = requireChecks(deps);
    const query = parseOr400(RunQuery, req.query, 'query string');
    const body = parseOr400(CheckRunRequest, req.body ?? {});
    const set = lookup(checks, req.params.name);
    const airflow = body.source === 'airflow' || body.run_id !== undefined;
    const input: DataQualityWorkflowInput = {
      checkSet: set.name,
      trigger: airflow ? 'airflow' : 'manual',
      requestedBy: airflow
        ? `airflow${body.dag_id ? `:${body.dag_id}${body.task_id ? `.${body.task_id}` : ''}` : ''}`
        : 'api',
      ...(body.run_id !== undefined ? { dagRunId: body.run_id } : {}),
    };
    const workflowId = checkRunWorkflowId(set.name, body, new Date().toISOString());
    const { client } = deps.temporal;

    let handle: WorkflowHandle<typeof dataQualityWorkflow>;
    let runId: string;
    let existing = false;
    try {
      const startedHandle = await temporalCall(() =>
        deps.temporal.withDeadline(START_TIMEOUT_MS, () =>
          client.workflow.start<typeof dataQualityWorkflow>('dataQualityWorkflow', {
            workflowId,
            taskQueue: checks.taskQueue,
            args: [input],
            // A repeated callback while the run is going joins it; after it finished it is not run again
            // (unless that run failed).
            workflowIdConflictPolicy: 'USE_EXISTING',
            workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
            staticSummary:
              `data-quality checks ${set.name} (${input.trigger}${input.requestedBy ? `, ${input.requestedBy}` : ''})`.slice(
                0,
                200,
              ),
          }),
        ),
      );
      handle = startedHandle;
      runId = startedHandle.firstExecutionRunId;
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // Already ran for this Airflow DAG run: answer with that run.
      handle = client.workflow.getHandle<typeof dataQualityWorkflow>(workflowId);
      runId = (await temporalCall(() => handle.describe())).runId;
      existing = true;
    }
    const started = {
      workflowId,
      runId,
      checkSet: set.name,
      trigger: input.trigger,
      ...(existing ? { existing: true } : {}),
    };
    if (query.wait !== 'true') return reply.status(202).send({ ...started, status: 'started' });

    const waitMs = checks.waitTimeoutMs ?? DEFAULT_WAIT_MS;
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), waitMs);
    try {
      const result: DataQualityWorkflowResult = await deps.temporal.connection.withAbortSignal(
        abort.signal,
        () => handle.result(),
      );
      return reply.status(200).send({ ...started, status: 'completed', result });
    } catch (err) {
      if (abort.signal.aborted) {
        return reply.status(202).send({
          ...started,
          status: 'running',
          message: `still running after ${formatDuration(waitMs)}; follow workflow ${workflowId}`,
        });
      }
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause?.message ?? err.message;
        throw new HttpError(500, 'check_run_failed', `data-quality run ${workflowId} failed: ${cause}`);
      }
      if (isTemporalUnavailable(err))
        throw new HttpError(503, 'temporal_unavailable', 'Temporal is unreachable');
      throw err;
    } finally {
      clearTimeout(timer);
    }
  });
}
