import { condition } from '@temporalio/workflow';
import type { PageResult } from '../../activities';
import {
  initialEscalation,
  levelDescription,
  markPaged,
  planEscalation,
  planSummary,
  requestedLevels,
  targetKey,
  targetLabel,
} from '../../domain/escalation';
import type { Channel, EscalationTarget, PolicySnapshot } from '../../domain/escalation-policy';
import type { IncidentEscalation, PageLogEntry } from '../../domain/incident-view';
import { paging } from './proxies';
import { act, emit, failureMessage, isClosed, note, now, nowIso, type Runtime, touch } from './runtime';

const MAX_PAGE_LOG = 200;

/** Channels a target can be reached on. */
function usable(target: EscalationTarget, channel: Channel): boolean {
  if ('slack_channel' in target) return channel === 'slack';
  if ('webhook' in target) return channel === 'webhook';
  return channel !== 'webhook';
}

function logPage(esc: IncidentEscalation, entry: PageLogEntry): void {
  esc.pages.push(entry);
  if (esc.pages.length > MAX_PAGE_LOG) esc.pages.splice(0, esc.pages.length - MAX_PAGE_LOG);
}

/**
 * The escalation part of an incident: pages the policy's levels on durable timers computed from absolute
 * times in state (so a worker restart or continue-as-new resumes only the remaining wait), pauses on
 * acknowledgement until no progress is made for the policy's timeout, jumps on severity rules and
 * `escalate` requests, and stops when the incident resolves.
 */
export async function runEscalation(rt: Runtime): Promise<void> {
  const policy = rt.input.policy;
  if (!policy) return;
  const esc: IncidentEscalation = (rt.state.escalation ??= {
    ...initialEscalation(policy),
    pages: [],
    pending: [],
    pagerDutyTriggered: false,
    pagerDutyAcknowledged: false,
  });

  while (!isClosed(rt)) {
    // Pages decided before a continue-as-new but not sent yet.
    if (esc.pending.length > 0) {
      await sendPending(rt, policy, esc);
      continue;
    }
    const request = rt.escalationRequests.shift();
    if (request) {
      const levels = requestedLevels(policy, esc, request.level);
      if (levels.length === 0) {
        note(
          rt,
          'note',
          `Escalation requested${request.by ? ` by ${request.by}` : ''} but the policy has no higher level`,
          {
            ...(request.by ? { actor: request.by } : {}),
          },
        );
      } else {
        await page(rt, policy, esc, levels, request.reason, now());
      }
      continue;
    }
    await syncPagerDutyAck(rt, esc);
    const plan = planEscalation(policy, esc, {
      openedAt: Date.parse(rt.state.openedAt),
      lastProgressAt: Date.parse(rt.state.lastProgressAt ?? rt.state.openedAt),
      severity: rt.state.severity,
      acknowledged: rt.state.acknowledgedAt !== undefined,
    });
    const version = rt.escalationVersion;
    if (plan.kind === 'done') {
      delete rt.nextEscalation;
      await condition(
        () => isClosed(rt) || rt.escalationVersion !== version || rt.escalationRequests.length > 0,
      );
      continue;
    }
    const wait = plan.at - now();
    if (wait > 0) {
      const summary = planSummary(policy, plan, now());
      rt.nextEscalation = { at: plan.at, summary };
      touch(rt);
      const interrupted = await condition(
        () => isClosed(rt) || rt.escalationVersion !== version || rt.escalationRequests.length > 0,
        wait,
        { summary },
      );
      if (interrupted) continue;
    }
    delete rt.nextEscalation;
    const reason =
      plan.reason === 'no_progress'
        ? 'no progress'
        : plan.reason === 'severity_rule'
          ? `severity ${rt.state.severity}`
          : plan.reason === 'repeat'
            ? 'repeat'
            : 'not acknowledged';
    // Levels are recorded at their due time, so the ladder keeps its schedule even when a page went out late
    // (a worker restart): the next level stays due relative to when this one was due.
    await page(rt, policy, esc, plan.levels, reason, Math.min(plan.at, now()));
  }
  delete rt.nextEscalation;
  if (esc.pagerDutyTriggered && rt.features.pagerduty) {
    await act(rt, () => paging.pagerDutyResolve(rt.state.incidentId)).catch((err: unknown) => {
      note(rt, 'notification_failed', `PagerDuty resolve failed: ${failureMessage(err).message}`);
    });
  }
}

async function syncPagerDutyAck(rt: Runtime, esc: IncidentEscalation): Promise<void> {
  if (
    !esc.pagerDutyTriggered ||
    esc.pagerDutyAcknowledged ||
    !rt.state.acknowledgedAt ||
    !rt.features.pagerduty
  )
    return;
  esc.pagerDutyAcknowledged = true;
  await act(rt, () => paging.pagerDutyAcknowledge(rt.state.incidentId)).catch((err: unknown) => {
    note(rt, 'notification_failed', `PagerDuty acknowledge failed: ${failureMessage(err).message}`);
  });
}

/** Marks levels paged (recorded first, so a crash never pages twice) and sends them. */
async function page(
  rt: Runtime,
  policy: PolicySnapshot,
  esc: IncidentEscalation,
  levels: number[],
  reason: string,
  at: number,
): Promise<void> {
  markPaged(policy, esc, levels, at);
  for (const level of levels)
    emit(rt, { kind: 'escalated', incidentType: rt.state.incidentType, severity: rt.state.severity, level });
  esc.pending.push(...levels.map((level) => ({ level, reason })));
  touch(rt, true);
  await sendPending(rt, policy, esc);
}

/** Sends decided levels in order; each leaves `pending` only once it was paged. */
async function sendPending(rt: Runtime, policy: PolicySnapshot, esc: IncidentEscalation): Promise<void> {
  while (esc.pending.length > 0 && !isClosed(rt)) {
    const { level, reason } = esc.pending[0]!;
    await pageLevel(rt, policy, esc, level, reason);
    esc.pending.shift();
  }
  esc.pending.length = 0;
}

/**
 * Pages every target of one level on its channels, concurrently. A channel that fails for good for a
 * target falls back to the policy's next untried channel; a level that reaches nobody escalates at once.
 */
async function pageLevel(
  rt: Runtime,
  policy: PolicySnapshot,
  esc: IncidentEscalation,
  level: number,
  reason: string,
): Promise<void> {
  const spec = policy.levels[level - 1];
  if (!spec) return;
  const pagedAt = esc.pagedAt[String(level)] ?? now();
  note(rt, 'escalated', `Escalated to ${spec.name} (${reason}): ${levelDescription(spec)}`, {
    actor: 'system',
    data: { level, reason },
  });
  const reached = await Promise.all(
    spec.targets.map((target) =>
      pageTargetWithFallback(rt, policy, esc, level, spec.name, target, spec.channels, pagedAt),
    ),
  );
  if (!reached.some(Boolean) && !isClosed(rt)) {
    note(rt, 'page_failed', `Nobody was reached at ${spec.name}: escalating to the next level`, {
      data: { level },
    });
    if (level < policy.levels.length)
      rt.escalationRequests.push({ level: level + 1, reason: `nobody reached at ${spec.name}` });
  }
  touch(rt, true);
}

async function pageTargetWithFallback(
  rt: Runtime,
  policy: PolicySnapshot,
  esc: IncidentEscalation,
  level: number,
  levelName: string,
  target: EscalationTarget,
  channels: Channel[],
  atMs: number,
): Promise<boolean> {
  const tried = new Set<Channel>();
  const queue = channels.filter((c) => usable(target, c));
  let reachedAny = false;
  while (queue.length > 0) {
    const channel = queue.shift()!;
    if (tried.has(channel)) continue;
    tried.add(channel);
    if (channel === 'pagerduty' && !rt.features.pagerduty) continue;
    const result = await sendPage(rt, esc, level, levelName, target, channel, atMs);
    if (result === 'sent') {
      reachedAny = true;
      continue;
    }
    if (result === 'failed' && !reachedAny) {
      // Fall back to the next channel of the policy not yet tried at this level.
      const next = policy.fallback_channels.find(
        (c) => !tried.has(c) && !queue.includes(c) && usable(target, c),
      );
      if (next) {
        note(rt, 'note', `Falling back to ${next} for ${targetLabel(target)} at L${level}`, {
          data: { level, channel: next },
        });
        queue.push(next);
      }
    }
  }
  return reachedAny;
}

async function sendPage(
  rt: Runtime,
  esc: IncidentEscalation,
  level: number,
  levelName: string,
  target: EscalationTarget,
  channel: Channel,
  atMs: number,
): Promise<'sent' | 'failed' | 'skipped'> {
  const key = targetKey(target);
  const at = nowIso();
  let result: PageResult;
  try {
    result = await act(rt, () =>
      paging.pageTarget.executeWithOptions({ summary: `L${level}: ${channel} to ${targetLabel(target)}` }, [
        {
          pageKey: `${rt.state.incidentId}/${rt.state.openedAt}/L${level}.${esc.loop}/${key}/${channel}`,
          incidentId: rt.state.incidentId,
          ...(rt.state.number ? { incidentNumber: rt.state.number } : {}),
          level,
          levelName,
          target,
          channel,
          atMs,
          severity: rt.state.severity,
          title: rt.state.title,
          service: rt.state.service,
          links: incidentLinks(rt),
          slackChannel:
            rt.state.slack?.channel ??
            rt.state.routing.slackChannel ??
            rt.input.settings.defaultSlackChannel ??
            '#data-incidents',
        },
      ]),
    );
  } catch (err) {
    const failure = failureMessage(err);
    logPage(esc, {
      level,
      target: key,
      channel,
      at,
      status: 'failed',
      recipients: [],
      error: failure.message,
    });
    note(rt, 'page_failed', `L${level} ${channel} to ${targetLabel(target)} failed: ${failure.message}`, {
      data: { level, channel, target: key, type: failure.type },
    });
    return 'failed';
  }
  const recipients = result.recipients.map((r) => r.address);
  logPage(esc, {
    level,
    target: key,
    channel,
    at,
    status: result.status,
    recipients,
    ...(result.error ? { error: result.error.message } : result.reason ? { error: result.reason } : {}),
  });
  if (channel === 'pagerduty' && result.status === 'sent') esc.pagerDutyTriggered = true;
  emit(rt, { kind: 'paged', channel, outcome: result.status });
  if (result.status === 'sent') {
    note(rt, 'paged', `Paged ${targetLabel(target)} by ${channel} (L${level}): ${recipients.join(', ')}`, {
      actor: 'system',
      data: { level, channel, target: key },
    });
  } else {
    const why = result.error?.message ?? result.reason ?? result.status;
    note(rt, 'page_failed', `L${level} ${channel} to ${targetLabel(target)} ${result.status}: ${why}`, {
      data: { level, channel, target: key, ...(result.error ? { type: result.error.type } : {}) },
    });
  }
  return result.status;
}

/** Links shown in pages and messages. */
export function incidentLinks(rt: Runtime): { incident?: string; temporalUi?: string } {
  const s = rt.input.settings;
  const id = encodeURIComponent(rt.state.incidentId);
  return {
    ...(s.apiUrl ? { incident: `${s.apiUrl}/api/v1/incidents/${id}` } : {}),
    ...(s.temporalUiUrl
      ? {
          temporalUi: `${s.temporalUiUrl}/namespaces/${encodeURIComponent(s.namespace ?? 'default')}/workflows/${id}`,
        }
      : {}),
  };
}
