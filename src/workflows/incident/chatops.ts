import { condition, patched, sleep } from '@temporalio/workflow';
import { fingerprintOf } from '../../domain/generic-alert';
import { firingAlerts } from '../../domain/incident';
import {
  blockKitProblems,
  type IncidentMessageModel,
  renderIncidentMessage,
  renderThreadUpdate,
  type SlackMessage,
} from '../../domain/slack-message';
import type { SlackThread } from '../../domain/incident-view';
import type { TimelineKind } from '../../domain/timeline';
import { ErrorType } from '../../domain/errors';
import { incidentLinks } from './escalation';
import { quick } from './proxies';
import { act, failureMessage, note, now, nowIso, type Runtime } from './runtime';

/** Timeline entries worth a line in the incident's Slack thread. */
const THREAD_KINDS: ReadonlySet<TimelineKind> = new Set<TimelineKind>([
  'alert_firing',
  'alert_resolved',
  'severity_raised',
  'acknowledged',
  'comment',
  'escalated',
  'paged',
  'page_failed',
  'diagnosis',
  'runbook_started',
  'step_started',
  'step_succeeded',
  'step_failed',
  'approval_requested',
  'approval_recorded',
  'approval_refused',
  'approval_timed_out',
  'automation_paused',
  'resolved',
  'reopened',
  'postmortem',
  'note',
]);

const MAX_THREAD_LINES = 15;
const MAX_FAILURES = 5;
const MAX_REPOSTS = 3;
/** Re-posting a deleted incident message came after `incident-parts-v2`. */
const REPOST_PATCH = 'slack-repost-deleted-message';
/**
 * The catch-up loop ({@link syncWithSlack}): renders again after every call instead of waiting for the next
 * change, survives Slack outages with backoff instead of disabling Slack, and posts with idempotency keys.
 */
const CATCH_UP_PATCH = 'chatops-catch-up';
/** Backoff between sync attempts while Slack fails: doubles from the first delay up to the cap. */
export const OUTAGE_BACKOFF = { firstMs: 30_000, maxMs: 5 * 60_000 } as const;
/** After the incident closed, an outage is waited out this long before the last sync is given up. */
export const CLOSED_OUTAGE_PATIENCE_MS = 24 * 60 * 60_000;

function humanCause(cause: string): string {
  const text = cause.replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The message model from the incident state (pure). */
export function messageModel(rt: Runtime): IncidentMessageModel {
  const s = rt.state;
  const firing = firingAlerts(s);
  const first = firing[0] ?? Object.values(s.alerts)[0];
  const top = s.diagnosis?.[0];
  const run = s.runbook;
  const runbook = run ? rt.input.runbooks?.[run.runbook] : undefined;
  const step = run?.status === 'running' && runbook ? runbook.steps[run.stepIndex] : undefined;
  const pending = run && step?.type === 'approval' ? run.steps[step.id]?.approval : undefined;
  const dag = first?.labels.dag_id;
  const grafana = rt.input.settings.grafanaUrl;
  const links = incidentLinks(rt);
  return {
    incidentId: s.incidentId,
    ...(s.number ? { number: s.number } : {}),
    title: s.title,
    severity: s.severity,
    status: s.status,
    service: s.service,
    alert: first ? `${first.name}: ${first.summary}` : s.title,
    affected: dag ? `dag-${dag.replace(/_/g, '-')}` : s.service,
    ...(s.recentChange ? { recentChange: { text: s.recentChange } } : {}),
    ...(top
      ? { diagnosis: { cause: humanCause(top.cause), confidence: top.confidence, basis: top.basis } }
      : {}),
    suggestions: s.suggestions ?? [],
    ...(s.acknowledgedBy ? { acknowledgedBy: s.acknowledgedBy } : {}),
    ...(s.investigator ? { investigator: s.investigator } : {}),
    ...(step && step.type !== 'approval' ? { activity: `running ${run!.runbook} › ${step.id}` } : {}),
    ...(pending?.status === 'pending'
      ? {
          pendingApproval: {
            stepId: pending.stepId,
            prompt: pending.prompt,
            approvers: pending.allowed.map((a) => a.name),
            deadline: new Date(pending.deadlineAt).toISOString().slice(11, 16) + ' UTC',
          },
        }
      : {}),
    ...(s.resolvedAt
      ? {
          resolved: {
            at: s.resolvedAt.slice(11, 16) + ' UTC',
            ...(s.resolution?.by ? { by: s.resolution.by } : {}),
            reason: s.resolution?.note ?? s.resolution?.reason ?? 'resolved',
          },
        }
      : {}),
    ...(s.escalation?.highestLevel ? { escalationLevel: s.escalation.highestLevel } : {}),
    links: {
      ...(links.temporalUi ? { temporalUi: links.temporalUi } : {}),
      ...(links.incident ? { incident: links.incident } : {}),
      ...(grafana
        ? {
            grafana: `${grafana}/d/incidentflow-l3-dag/l3-dag${dag ? `?var-dag_id=${encodeURIComponent(dag)}` : ''}`,
          }
        : {}),
    },
  };
}

/**
 * The ChatOps part: posts the incident message once (its `ts` is kept in state, so a retry or a crash
 * never posts twice), edits it in place as the incident moves, and posts timeline entries to its thread.
 * Slack failures never stop the incident: a missing channel falls back to the default channel once; a
 * final error (bad token) disables Slack for this incident and is recorded in the timeline.
 */
export async function runChatOps(rt: Runtime): Promise<void> {
  if (!rt.features.slack) return;
  if (patched(CATCH_UP_PATCH)) return syncWithSlack(rt);
  const fallback = rt.input.settings.defaultSlackChannel ?? '#data-incidents';
  const slack = (rt.state.slack ??= { channel: rt.state.routing.slackChannel ?? fallback, postedSeq: 0 });
  let failures = 0;
  const debounceMs = rt.input.settings.slackDebounceMs ?? 1_000;

  for (;;) {
    if (slack.disabled || failures >= MAX_FAILURES) return;
    const message = renderIncidentMessage(messageModel(rt));
    const problems = blockKitProblems(message);
    if (problems.length > 0)
      note(rt, 'note', `Slack message exceeds Block Kit limits: ${problems.join('; ')}`);
    const hash = fingerprintOf(JSON.stringify(message));
    const pending = rt.state.timeline.filter(
      (e) => (e.seq ?? 0) > slack.postedSeq && THREAD_KINDS.has(e.kind),
    );

    try {
      if (!slack.ts) {
        const ref = await act(rt, () =>
          quick.notifySlack({ channel: slack.channel, text: message.text, blocks: message.blocks }),
        );
        slack.channel = ref.channel;
        slack.ts = ref.ts;
        slack.renderedHash = hash;
        failures = 0;
        continue;
      }
      if (hash !== slack.renderedHash) {
        await act(rt, () =>
          quick.updateSlackMessage({
            channel: slack.channel,
            ts: slack.ts!,
            text: message.text,
            blocks: message.blocks,
          }),
        );
        slack.renderedHash = hash;
      }
      if (pending.length > 0) {
        const batch = pending.slice(0, MAX_THREAD_LINES);
        const lines = batch.map((e) => `${e.at.slice(11, 19)} ${e.text}`);
        const reply: SlackMessage = renderThreadUpdate(lines);
        await act(rt, () =>
          quick.notifySlack({
            channel: slack.channel,
            threadTs: slack.ts!,
            text: reply.text,
            blocks: reply.blocks,
          }),
        );
        slack.postedSeq = batch[batch.length - 1]!.seq ?? slack.postedSeq;
      }
      failures = 0;
    } catch (err) {
      failures += 1;
      const failure = failureMessage(err);
      if (
        !slack.ts &&
        !slack.fellBack &&
        slack.channel !== fallback &&
        (failure.type === ErrorType.NotFound || failure.type === ErrorType.Rejected)
      ) {
        slack.fellBack = true;
        note(
          rt,
          'notification_failed',
          `Slack channel ${slack.channel} unusable (${failure.message}); falling back to ${fallback}`,
        );
        slack.channel = fallback;
        continue;
      }
      // Someone deleted the incident message: post it again rather than failing every later edit.
      if (
        slack.ts &&
        failure.type === ErrorType.NotFound &&
        (slack.reposts ?? 0) < MAX_REPOSTS &&
        patched(REPOST_PATCH)
      ) {
        note(
          rt,
          'notification_failed',
          `Slack incident message ${slack.ts} is gone (${failure.message}); posting it again`,
        );
        slack.reposts = (slack.reposts ?? 0) + 1;
        delete slack.ts;
        delete slack.renderedHash;
        continue;
      }
      if (
        failure.type === ErrorType.AuthFailed ||
        failure.type === ErrorType.NotConfigured ||
        failures >= MAX_FAILURES
      ) {
        slack.disabled = failure.message;
        note(rt, 'notification_failed', `Slack disabled for this incident: ${failure.message}`);
        return;
      }
      note(rt, 'notification_failed', `Slack update failed (${failure.message}); will retry`);
      await sleep(30_000);
      continue;
    }

    const synced = (): boolean =>
      fingerprintOf(JSON.stringify(renderIncidentMessage(messageModel(rt)))) === slack.renderedHash &&
      !rt.state.timeline.some((e) => (e.seq ?? 0) > slack.postedSeq && THREAD_KINDS.has(e.kind));
    if (rt.finished && synced()) return;
    const version = rt.version;
    await condition(() => rt.version !== version);
    // Coalesce bursts (an alert storm, a runbook step finishing) into one edit.
    await sleep(debounceMs);
  }
}

/** The delay before sync attempt `attempts + 1` during an outage (pure). */
export function outageBackoffMs(attempts: number): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 16);
  return Math.min(OUTAGE_BACKOFF.maxMs, OUTAGE_BACKOFF.firstMs * 2 ** exponent);
}

/** Timeline entries after `postedSeq` (up to `toSeq`) that belong in the Slack thread. */
function threadEntries(rt: Runtime, postedSeq: number, toSeq = Number.POSITIVE_INFINITY) {
  return rt.state.timeline.filter((e) => {
    const seq = e.seq ?? 0;
    return seq > postedSeq && seq <= toSeq && THREAD_KINDS.has(e.kind);
  });
}

function messageHash(message: SlackMessage): string {
  return fingerprintOf(JSON.stringify(message));
}

/**
 * The ChatOps part (runs under {@link CATCH_UP_PATCH}): keeps one Slack message per incident equal to the
 * incident's current state, and its thread in step with the timeline.
 *
 * - Lost updates: after every Slack call the message is rendered again and compared; the loop only
 *   waits for the next change when what Slack shows is the current state and the thread is complete.
 * - Outages: only `AuthFailed`/`NotConfigured` disable Slack for the incident. Any other failure is an
 *   outage, noted once in the timeline and retried with capped exponential backoff
 *   ({@link outageBackoffMs}) for as long as the incident is open (and {@link CLOSED_OUTAGE_PATIENCE_MS}
 *   after it closed). When Slack is back the message catches up in one edit and the thread in batches.
 * - Exactly once: the root message and each thread batch carry an idempotency key kept in state, so a
 *   post whose response was lost is found in the channel history instead of being posted again.
 */
async function syncWithSlack(rt: Runtime): Promise<void> {
  const fallback = rt.input.settings.defaultSlackChannel ?? '#data-incidents';
  const slack = (rt.state.slack ??= { channel: rt.state.routing.slackChannel ?? fallback, postedSeq: 0 });
  const debounceMs = rt.input.settings.slackDebounceMs ?? 1_000;
  /** Workflow time of the last round of Slack calls. */
  let lastSyncAt = 0;
  const synced = (): boolean =>
    slack.ts !== undefined &&
    messageHash(renderIncidentMessage(messageModel(rt))) === slack.renderedHash &&
    threadEntries(rt, slack.postedSeq).length === 0;

  for (;;) {
    if (slack.disabled) return;
    if (synced()) {
      if (slack.outage) {
        recovered(rt, slack);
        continue; // the note goes to the thread
      }
      if (rt.finished) return;
      const version = rt.version;
      await condition(() => rt.version !== version);
      // Leading edge: the first change after a quiet spell (a click) is shown at once; changes that follow
      // within `debounceMs` of the last sync (an alert storm, a runbook step finishing) coalesce.
      const quietFor = now() - lastSyncAt;
      if (quietFor < debounceMs) await sleep(debounceMs - quietFor);
      continue;
    }
    try {
      lastSyncAt = now();
      await syncOnce(rt, slack);
    } catch (err) {
      const failure = failureMessage(err);
      if (
        !slack.ts &&
        !slack.fellBack &&
        slack.channel !== fallback &&
        (failure.type === ErrorType.NotFound || failure.type === ErrorType.Rejected)
      ) {
        slack.fellBack = true;
        delete slack.pendingPost;
        note(
          rt,
          'notification_failed',
          `Slack channel ${slack.channel} unusable (${failure.message}); falling back to ${fallback}`,
        );
        slack.channel = fallback;
        continue;
      }
      // Someone deleted the incident message: post it again rather than failing every later edit.
      if (slack.ts && failure.type === ErrorType.NotFound && (slack.reposts ?? 0) < MAX_REPOSTS) {
        note(
          rt,
          'notification_failed',
          `Slack incident message ${slack.ts} is gone (${failure.message}); posting it again`,
        );
        slack.reposts = (slack.reposts ?? 0) + 1;
        delete slack.ts;
        delete slack.renderedHash;
        delete slack.pendingPost;
        continue;
      }
      if (failure.type === ErrorType.AuthFailed || failure.type === ErrorType.NotConfigured) {
        slack.disabled = failure.message;
        note(rt, 'notification_failed', `Slack disabled for this incident: ${failure.message}`);
        return;
      }
      if (!slack.outage) {
        slack.outage = { since: nowIso(), attempts: 1, lastError: failure.message };
        note(
          rt,
          'notification_failed',
          `Slack unavailable (${failure.message}); retrying with backoff until it is back`,
        );
      } else {
        slack.outage.attempts += 1;
        slack.outage.lastError = failure.message;
      }
      const closedAt = rt.state.resolvedAt ? Date.parse(rt.state.resolvedAt) : undefined;
      if (rt.finished && closedAt !== undefined && now() - closedAt > CLOSED_OUTAGE_PATIENCE_MS) {
        slack.disabled = `Slack unavailable since ${slack.outage.since}: ${failure.message}`;
        note(
          rt,
          'notification_failed',
          `Slack still unavailable a day after the incident closed (${failure.message}); giving up its last update`,
        );
        return;
      }
      await sleep(outageBackoffMs(slack.outage.attempts));
    }
  }
}

/** One round of Slack calls: post the root message if missing, else edit it if stale, then one thread batch. */
async function syncOnce(rt: Runtime, slack: SlackThread): Promise<void> {
  const message = renderIncidentMessage(messageModel(rt));
  const problems = blockKitProblems(message);
  const problemText = problems.join('; ');
  if (problems.length > 0 && slack.problemsNoted !== problemText) {
    slack.problemsNoted = problemText;
    note(rt, 'note', `Slack message exceeds Block Kit limits: ${problemText}`);
  }
  const hash = messageHash(message);
  if (!slack.ts) {
    const post = (slack.pendingPost ??= {
      key: `${rt.state.incidentId}/root/${slack.reposts ?? 0}`,
      firstTriedAt: now(),
      tries: 0,
    });
    post.tries += 1;
    const ref = await act(rt, () =>
      quick.notifySlack({
        channel: slack.channel,
        text: message.text,
        blocks: message.blocks,
        idempotencyKey: post.key,
        firstTriedAt: post.firstTriedAt,
        retried: post.tries > 1,
      }),
    );
    delete slack.pendingPost;
    slack.channel = ref.channel;
    slack.ts = ref.ts;
    slack.renderedHash = hash;
    return;
  }
  if (hash !== slack.renderedHash) {
    const ts = slack.ts;
    await act(rt, () =>
      quick.updateSlackMessage({ channel: slack.channel, ts, text: message.text, blocks: message.blocks }),
    );
    slack.renderedHash = hash;
  }
  // A root-message post left pending has no `toSeq`: once the root exists, only thread batches are pending.
  const pending = slack.pendingPost?.toSeq !== undefined ? slack.pendingPost : batchAfter(rt, slack);
  if (!pending) return;
  slack.pendingPost = pending;
  const batch = threadEntries(rt, slack.postedSeq, pending.toSeq);
  if (batch.length > 0) {
    pending.tries += 1;
    const reply: SlackMessage = renderThreadUpdate(batch.map((e) => `${e.at.slice(11, 19)} ${e.text}`));
    const threadTs = slack.ts;
    await act(rt, () =>
      quick.notifySlack({
        channel: slack.channel,
        threadTs,
        text: reply.text,
        blocks: reply.blocks,
        idempotencyKey: pending.key,
        firstTriedAt: pending.firstTriedAt,
        retried: pending.tries > 1,
      }),
    );
  }
  slack.postedSeq = pending.toSeq ?? slack.postedSeq;
  delete slack.pendingPost;
}

/** The next thread batch: up to {@link MAX_THREAD_LINES} entries after `postedSeq`, fixed from here on. */
function batchAfter(rt: Runtime, slack: SlackThread): SlackThread['pendingPost'] {
  const entries = threadEntries(rt, slack.postedSeq).slice(0, MAX_THREAD_LINES);
  const last = entries[entries.length - 1];
  if (!last) return undefined;
  return {
    key: `${rt.state.incidentId}/thread/${slack.ts ?? ''}/${slack.postedSeq}`,
    firstTriedAt: now(),
    tries: 0,
    toSeq: last.seq ?? slack.postedSeq,
  };
}

/** Slack answered again after an outage: noted once, with how long it lasted. */
function recovered(rt: Runtime, slack: SlackThread): void {
  const outage = slack.outage!;
  delete slack.outage;
  const minutes = Math.max(1, Math.round((now() - Date.parse(outage.since)) / 60_000));
  note(
    rt,
    'note',
    `Slack reachable again after ${minutes} min (${outage.attempts} failed attempts); the incident message caught up`,
  );
}
