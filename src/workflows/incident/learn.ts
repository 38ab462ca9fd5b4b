import { condition, ParentClosePolicy, patched, sleep, startChild, upsertMemo } from '@temporalio/workflow';
import { firingAlerts } from '../../domain/incident';
import { runbookRunsRemoved } from '../../domain/state-bounds';
import {
  incidentKeyOf,
  type IncidentRecord,
  type ResolutionOutcome,
  type StepRecord,
  type StoredEvent,
} from '../../domain/incident-record';
import type { RunbookRunState } from '../../domain/runbook-run';
import type { Suggestion } from '../../domain/slack-message';
import { describeSlowTask } from '../../domain/task-durations';
import { learn, quick } from './proxies';
import { act, failureMessage, isClosed, note, type Runtime, touch } from './runtime';

const MAX_DIAGNOSES = 4;

/** The store's natural key of this incident. */
export function incidentKey(rt: Runtime): string {
  return incidentKeyOf(rt.state.incidentId, rt.state.openedAt);
}

function outcome(rt: Runtime): ResolutionOutcome | undefined {
  const r = rt.state.resolution;
  if (!r) return undefined;
  if (r.reason === 'runbook' || (r.reason === 'auto' && rt.state.mitigatedAt)) return 'resolved_by_runbook';
  if (r.reason === 'auto' || r.reason === 'reconciled') return 'auto_resolved';
  return 'resolved_manually';
}

/** The incident as the store records it. */
export function incidentRecord(rt: Runtime): IncidentRecord {
  const s = rt.state;
  const first = firingAlerts(s)[0] ?? Object.values(s.alerts)[0];
  const o = outcome(rt);
  const run = s.runbook;
  return {
    incidentKey: incidentKey(rt),
    workflowId: s.incidentId,
    ...(s.number ? { number: s.number } : {}),
    incidentType: s.incidentType,
    service: s.service,
    severity: s.severity,
    title: s.title,
    dedupKey: s.dedupKey,
    fingerprints: Object.keys(s.alerts).slice(0, 100),
    ...(first ? { labels: first.labels } : {}),
    status: s.status,
    openedAt: s.openedAt,
    ...(s.acknowledgedAt ? { acknowledgedAt: s.acknowledgedAt } : {}),
    ...(s.acknowledgedBy ? { acknowledgedBy: s.acknowledgedBy } : {}),
    ...(s.mitigatedAt ? { mitigatedAt: s.mitigatedAt } : {}),
    ...(s.resolvedAt ? { resolvedAt: s.resolvedAt } : {}),
    highestEscalationLevel: s.escalation?.highestLevel ?? 0,
    ...(o ? { outcome: o } : {}),
    ...(s.resolution?.by ? { resolvedBy: s.resolution.by } : {}),
    ...(run ? { runbook: run.runbook } : {}),
    ...(o === 'resolved_by_runbook' && run
      ? { fix: run.runbook }
      : s.resolution?.note
        ? { fix: s.resolution.note }
        : {}),
  };
}

function stepRecords(rt: Runtime, run: RunbookRunState, group: number): StepRecord[] {
  const runbook = rt.input.runbooks?.[run.runbook];
  return Object.values(run.steps)
    .filter((st) => st.status !== 'pending')
    .map((st) => {
      const spec = runbook?.steps.find((s) => s.id === st.id);
      const result =
        st.approval?.status === 'approved'
          ? 'approved'
          : st.status === 'retry_wait'
            ? 'waiting'
            : st.status === 'awaiting_approval'
              ? 'waiting'
              : st.status === 'cancelled'
                ? 'aborted'
                : st.status === 'rejected' ||
                    st.status === 'timed_out' ||
                    st.status === 'running' ||
                    st.status === 'skipped'
                  ? st.status
                  : st.status === 'succeeded'
                    ? 'succeeded'
                    : 'failed';
      return {
        incidentKey: incidentKey(rt),
        stepId: st.id,
        attemptGroup: group,
        runbook: run.runbook,
        kind: st.type,
        ...(spec?.type === 'action' ? { action: spec.action } : {}),
        attempts: st.attempts,
        result,
        ...(st.error ? { error: st.error.message } : {}),
        ...(st.actor ? { actor: st.actor } : {}),
        ...(st.startedAt ? { startedAt: st.startedAt } : {}),
        ...(st.finishedAt ? { finishedAt: st.finishedAt } : {}),
      };
    });
}

/** Runs the diagnosis and ranks the incident's candidate runbooks by their record. */
async function diagnoseNow(rt: Runtime): Promise<void> {
  const s = rt.state;
  const first = firingAlerts(s)[0] ?? Object.values(s.alerts)[0];
  const labels = first?.labels ?? {};
  const failedTask =
    labels.dag_id && labels.task_id && (labels.run_id || labels.dag_run_id)
      ? {
          dagId: labels.dag_id,
          taskId: labels.task_id,
          dagRunId: labels.run_id ?? labels.dag_run_id!,
          ...(labels.try_number && /^\d+$/.test(labels.try_number)
            ? { tryNumber: Number(labels.try_number) }
            : {}),
        }
      : undefined;
  const result = await act(rt, () =>
    learn.diagnoseIncident({
      incident: {
        incidentKey: incidentKey(rt),
        incidentType: s.incidentType,
        service: s.service,
        labels,
        openedAt: s.openedAt,
        ...(first ? { failureStartedAt: first.startsAt } : {}),
        fingerprints: Object.keys(s.alerts).slice(0, 50),
      },
      ...(failedTask ? { failedTask } : {}),
      diagnosisId: `d${(s.learn?.diagnoses ?? 0) + 1}`,
    }),
  );
  s.learn = { ...s.learn, diagnoses: (s.learn?.diagnoses ?? 0) + 1 };
  s.diagnosis = result.hypotheses.map((h) => ({
    cause: h.cause,
    confidence: h.confidence,
    evidence: h.evidence,
    ...(h.suggestedRunbook ? { suggestedRunbook: h.suggestedRunbook } : {}),
    basis: h.basis,
  }));
  const latest = result.deployments[0];
  if (latest) {
    const minutes = Math.max(0, Math.round((Date.parse(s.openedAt) - Date.parse(latest.at)) / 60_000));
    s.recentChange = `Deployment ${latest.version} of ${latest.service} (${minutes} min before the incident)`;
  }
  const top = s.diagnosis[0];
  if (top) {
    note(
      rt,
      'diagnosis',
      `Diagnosis: likely ${top.cause.replace(/_/g, ' ')} (${Math.round(top.confidence * 100)}%): ${top.evidence.join('; ')} — ${top.basis}`,
      {
        actor: 'automation',
        data: { cause: top.cause, confidence: top.confidence },
      },
    );
  }
  await suggest(rt);
}

/** Candidate runbooks ordered by the diagnosis first, then by their recorded success rate. */
async function suggest(rt: Runtime): Promise<void> {
  const runbooks = rt.input.runbooks ?? {};
  const names = Object.keys(runbooks);
  if (names.length === 0) return;
  const ranked = await act(rt, () =>
    learn.runbookSuggestions({ incidentType: rt.state.incidentType, candidates: names }),
  );
  const fromDiagnosis = (rt.state.diagnosis ?? [])
    .map((h) => h.suggestedRunbook)
    .filter((r): r is string => !!r && r in runbooks);
  const order = [...new Set([...fromDiagnosis, ...ranked.suggestions.map((s) => s.runbook), ...names])];
  const flagged = new Set(ranked.flagged.map((f) => f.runbook));
  rt.state.suggestions = order.map((name): Suggestion => {
    const rb = runbooks[name]!;
    const stats = ranked.suggestions.find((s) => s.runbook === name);
    return {
      runbook: name,
      title: rb.title,
      risk: rb.risk,
      ...(stats?.rate !== undefined && stats.runs > 0 ? { successRate: stats.rate, runs: stats.runs } : {}),
      ...(flagged.has(name) ? { flagged: true } : {}),
    };
  });
  for (const f of ranked.flagged) {
    note(rt, 'note', `Runbook ${f.runbook} is flagged for manual improvement: ${f.message}`, {
      data: { runbook: f.runbook },
    });
  }
  touch(rt);
}

/** Behaviour added after `incident-parts-v2`: runs started before them replay without these commands. */
const NUMBER_MEMO_PATCH = 'incident-number-memo';
const SLA_BOTTLENECK_PATCH = 'sla-miss-bottleneck';
const CLOSE_IN_STORE_PATCH = 'learn-close-in-store';

/**
 * SLA miss: which task made the run late, against its own P95 over recent successful runs. The result
 * leads the diagnosis and is available to the runbook as `{{ slowest_task }}`.
 */
async function findBottleneck(rt: Runtime): Promise<void> {
  const first = firingAlerts(rt.state)[0] ?? Object.values(rt.state.alerts)[0];
  const dagId = first?.labels.dag_id;
  if (!dagId) return;
  const runId = first.labels.run_id ?? first.labels.dag_run_id;
  try {
    const { dagRunId, tasks } = await act(rt, () =>
      quick.airflowSlowestTasks({ dagId, ...(runId ? { dagRunId: runId } : {}), historyRuns: 20 }),
    );
    const top = tasks[0];
    if (!top) {
      note(rt, 'diagnosis', `No task history to compare run ${dagRunId} of ${dagId} with`);
      return;
    }
    const text = describeSlowTask(top);
    rt.state.facts = { ...rt.state.facts, slowest_task: text };
    if (top.overP95 > 0) {
      rt.state.diagnosis = [
        {
          cause: 'slow_task',
          confidence: Math.min(0.95, 0.5 + top.overP95),
          evidence: [`${text} in run ${dagRunId}`],
          suggestedRunbook: 'sla_miss',
          basis: `task durations of the last ${top.samples} successful runs`,
        },
        ...(rt.state.diagnosis ?? []),
      ];
    }
    note(rt, 'diagnosis', `Bottleneck of ${dagId}: ${text}`, {
      actor: 'automation',
      data: { task: top.taskId },
    });
  } catch (err) {
    note(rt, 'note', `Bottleneck analysis failed: ${failureMessage(err).message}`);
  }
}

/**
 * The Learn part: numbers and records the incident, diagnoses it at start and when new evidence (new
 * firing alerts) arrives, and orders the suggested runbooks. Its closing half (outcome, postmortem) runs
 * from {@link finishLearning} once the incident resolved.
 */
export async function runLearn(rt: Runtime, onDiagnosed: () => void): Promise<void> {
  if (!rt.features.store) {
    onDiagnosed();
    return;
  }
  const s = rt.state;
  try {
    if (!s.number) {
      const { number } = await act(rt, () =>
        learn.allocateIncidentNumber({ incidentKey: incidentKey(rt), openedAt: s.openedAt }),
      );
      s.number = number;
      // The static summary was written before the number existed: the memo carries it in the Web UI.
      if (patched(NUMBER_MEMO_PATCH)) upsertMemo({ incidentNumber: number });
      touch(rt);
    }
    if (!s.learn?.recorded) {
      await act(rt, () => learn.recordIncident(incidentRecord(rt)));
      s.learn = { ...s.learn, recorded: true };
    }
    if (!s.learn?.diagnoses) {
      await diagnoseNow(rt);
      if (s.incidentType === 'sla_miss' && patched(SLA_BOTTLENECK_PATCH)) await findBottleneck(rt);
    }
  } catch (err) {
    note(rt, 'note', `Learning layer unavailable: ${failureMessage(err).message}`);
  }
  onDiagnosed();
  let seen = Object.keys(s.alerts).length;
  while (!isClosed(rt) && (s.learn?.diagnoses ?? 0) < MAX_DIAGNOSES) {
    await condition(
      () => isClosed(rt) || (firingAlerts(s).length > 0 && Object.keys(s.alerts).length > seen),
    );
    if (isClosed(rt)) break;
    // Let a burst of new alerts settle before diagnosing again.
    await sleep(30_000);
    seen = Object.keys(s.alerts).length;
    await diagnoseNow(rt).catch((err: unknown) =>
      note(rt, 'note', `Diagnosis failed: ${failureMessage(err).message}`),
    );
  }
}

/** The timeline as the store keeps it (by seq; entries from before seqs existed count by position). */
function storedEvents(timeline: Runtime['state']['timeline']): StoredEvent[] {
  return timeline.map((e, i) => ({
    seq: e.seq ?? i + 1,
    at: e.at,
    kind: e.kind,
    text: e.text,
    ...(e.actor ? { actor: e.actor } : {}),
    ...(e.data ? { data: e.data } : {}),
  }));
}

/**
 * After resolution: writes the outcome and the runbook runs, stores the timeline, drafts the postmortem,
 * posts it to the Slack thread, and starts the 24 h review reminder. The incident is `closed` after that,
 * and the store gets the closed record and the timeline entries written since.
 */
export async function finishLearning(rt: Runtime): Promise<void> {
  if (!rt.features.store) return;
  const s = rt.state;
  const key = incidentKey(rt);
  try {
    const runs = [
      ...(s.runbookHistory ?? []),
      ...(s.runbook
        ? [{ runbook: s.runbook.runbook, status: s.runbook.status, finishedAt: s.runbook.finishedAt }]
        : []),
    ];
    if (s.runbook)
      await act(rt, () =>
        learn.recordSteps({ steps: stepRecords(rt, s.runbook!, runs.length - 1 + runbookRunsRemoved(s)) }),
      );
    await act(rt, () =>
      learn.recordAlerts({
        incidentKey: key,
        alerts: Object.values(s.alerts).map((a) => ({
          fingerprint: a.fingerprint,
          name: a.name,
          source: a.source,
          severity: a.severity,
          labels: a.labels,
          firstFiredAt: a.firstSeenAt,
          lastFiredAt: a.lastSeenAt,
          ...(a.endsAt ? { resolvedAt: a.endsAt } : {}),
          refires: a.refires,
          actionTaken: runs.length > 0,
        })),
      }),
    );
    const finished = await act(rt, () =>
      learn.finishIncident({
        incident: incidentRecord(rt),
        runbookRuns: runs
          .filter((r) => r.status !== 'running')
          .map((r) => ({
            runbook: r.runbook,
            outcome: r.status === 'succeeded' ? 'success' : r.status === 'failed' ? 'failure' : 'aborted',
            finishedAt: r.finishedAt ?? s.resolvedAt ?? s.openedAt,
          })),
      }),
    );
    for (const f of finished.flagged) {
      note(rt, 'note', `Runbook ${f.runbook} is flagged for manual improvement: ${f.message}`, {
        data: { runbook: f.runbook },
      });
    }
    const stored = storedEvents(s.timeline);
    await act(rt, () => learn.recordTimeline({ incidentKey: key, events: stored }));
    const prevention = s.runbook ? (rt.input.runbooks?.[s.runbook.runbook]?.prevention ?? []) : [];
    const pm = await act(rt, () => learn.generatePostmortem({ incidentKey: key, prevention }));
    s.learn = { ...s.learn, finished: true, postmortemAt: pm.generatedAt };
    note(
      rt,
      'postmortem',
      `Postmortem drafted for ${pm.number ?? s.incidentId}: GET /api/v1/incidents/${encodeURIComponent(pm.number ?? s.incidentId)}/postmortem (review within 24 h)`,
    );
    if (rt.features.slack && s.slack?.ts && !s.slack.disabled) {
      const slack = s.slack;
      await act(rt, () =>
        quick.notifySlack({ channel: slack.channel, threadTs: slack.ts!, text: pm.markdown.slice(0, 3500) }),
      ).catch((err: unknown) =>
        note(rt, 'notification_failed', `Postmortem not posted to Slack: ${failureMessage(err).message}`),
      );
    }
    await startChild('postmortemReminderWorkflow', {
      workflowId: `postmortem-reminder:${key}`,
      args: [
        {
          incidentKey: key,
          incidentId: s.incidentId,
          ...(s.number ? { number: s.number } : {}),
          ...(s.slack?.ts && !s.slack.disabled
            ? { slack: { channel: s.slack.channel, ts: s.slack.ts } }
            : {}),
        },
      ],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    }).catch((err: unknown) =>
      note(rt, 'note', `Postmortem reminder not scheduled: ${failureMessage(err).message}`),
    );
    s.status = 'closed';
    touch(rt, true);
    // The store saw the incident `resolved` and its timeline up to the postmortem: give it the rest.
    if (patched(CLOSE_IN_STORE_PATCH)) {
      const lastStored = stored.at(-1)?.seq ?? 0;
      const rest = storedEvents(s.timeline).filter((e) => e.seq > lastStored);
      await act(rt, () => learn.recordIncident(incidentRecord(rt)));
      if (rest.length > 0) await act(rt, () => learn.recordTimeline({ incidentKey: key, events: rest }));
    }
  } catch (err) {
    note(rt, 'note', `Learning at resolution failed: ${failureMessage(err).message}`);
  }
}
