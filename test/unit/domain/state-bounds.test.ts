import type { ApprovalState } from '../../../src/domain/approval';
import { applyAlerts, type AlertRecord } from '../../../src/domain/incident';
import type { IncidentState } from '../../../src/domain/incident-view';
import {
  compactAlerts,
  DEFAULT_STATE_BOUNDS,
  enforceCaps,
  isArchiveMarker,
  planArchive,
  removeArchived,
  runbookRunsRemoved,
  serializedSize,
  type StateBounds,
  stateBounds,
} from '../../../src/domain/state-bounds';
import { boundedId, isClipped, utf8Bytes } from '../../../src/domain/text-bounds';
import type { TimelineEntry } from '../../../src/domain/timeline';

function baseState(): IncidentState {
  return {
    incidentId: 'incident:test',
    dedupKey: 'test',
    service: 'etl',
    incidentType: 'airflow_task_failure',
    title: 'customer_etl failing',
    severity: 'P2',
    status: 'investigating',
    openedAt: '2026-11-25T09:00:00.000Z',
    routing: { rule: null, runbook: null, escalationPolicy: 'default', slackChannel: null },
    alerts: {},
    seen: [],
    counters: { deliveries: 0, duplicates: 0, untrackedAlerts: 0, timelineDropped: 0 },
    timeline: [{ at: '2026-11-25T09:00:00.000Z', kind: 'opened', text: 'Incident opened', seq: 1 }],
    processedRequests: [],
    runs: 1,
  };
}

function entry(i: number, text = `entry ${i}`): TimelineEntry {
  return {
    at: `2026-11-25T10:${String(i % 60).padStart(2, '0')}:00.000Z`,
    kind: 'comment',
    text,
    seq: i + 1,
  };
}

function approval(refusals: number): ApprovalState {
  return {
    stepId: 'approve_rollback',
    prompt: 'Roll back?',
    status: 'pending',
    allowed: [{ personId: 'alice', name: 'Alice', via: 'person' }],
    minApprovals: 1,
    requestedAt: '2026-11-25T09:10:00.000Z',
    deadlineAt: 0,
    decisions: [],
    refusals: Array.from({ length: refusals }, (_, i) => ({
      user: `u${i}`,
      at: '2026-11-25T09:11:00.000Z',
      reason: 'not_an_approver' as const,
    })),
  };
}

function record(fp: string, status: 'firing' | 'resolved', labels: Record<string, string>): AlertRecord {
  return {
    fingerprint: fp,
    name: 'A',
    source: 'alertmanager',
    status,
    severity: 'P2',
    labels,
    summary: 'summary '.repeat(100),
    startsAt: '2026-11-25T09:00:00.000Z',
    firstSeenAt: '2026-11-25T09:00:00.000Z',
    lastSeenAt: `2026-11-25T09:${fp.padStart(2, '0').slice(-2)}:00.000Z`,
    refires: 0,
  };
}

const b = DEFAULT_STATE_BOUNDS;

describe('enforceCaps', () => {
  const cases: Array<{
    name: string;
    arrange: (s: IncidentState) => void;
    check: (s: IncidentState) => void;
  }> = [
    {
      name: 'timeline text is clipped with the marker',
      arrange: (s) => s.timeline.push(entry(1, 'x'.repeat(900_000))),
      check: (s) => {
        expect(utf8Bytes(s.timeline[1]!.text)).toBeLessThanOrEqual(b.timelineTextBytes);
        expect(isClipped(s.timeline[1]!.text)).toBe(true);
      },
    },
    {
      name: 'timeline actor and data values are clipped, data keys capped',
      arrange: (s) =>
        s.timeline.push({
          ...entry(1),
          actor: 'a'.repeat(5000),
          data: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'.repeat(5000)])),
        }),
      check: (s) => {
        const e = s.timeline[1]!;
        expect(utf8Bytes(e.actor!)).toBeLessThanOrEqual(b.timelineActorBytes);
        expect(Object.keys(e.data!)).toHaveLength(b.timelineDataKeys);
        expect(Object.values(e.data!).every((v) => utf8Bytes(String(v)) <= b.timelineDataValueBytes)).toBe(
          true,
        );
      },
    },
    {
      name: 'title is clipped',
      arrange: (s) => (s.title = 't'.repeat(100_000)),
      check: (s) => expect(utf8Bytes(s.title)).toBeLessThanOrEqual(b.titleBytes),
    },
    {
      name: 'approval refusals keep the newest 50 and count the rest',
      arrange: (s) => {
        s.runbook = {
          runId: 'rb#1',
          runbook: 'rb',
          title: 'rb',
          risk: 'safe',
          status: 'running',
          startedAt: s.openedAt,
          startedBy: 'alice',
          stepIndex: 0,
          executions: 1,
          variables: {},
          steps: {
            approve_rollback: {
              id: 'approve_rollback',
              type: 'approval',
              status: 'awaiting_approval',
              attempts: 0,
              data: {},
              approval: approval(180),
            },
          },
        };
      },
      check: (s) => {
        const a = s.runbook!.steps.approve_rollback!.approval!;
        expect(a.refusals).toHaveLength(b.approvalRefusals);
        expect(a.refusals[0]!.user).toBe('u130');
        expect(a.refusalsDropped).toBe(130);
      },
    },
    {
      name: 'runbook history keeps the newest 50; the dropped ones still count for run numbering',
      arrange: (s) =>
        (s.runbookHistory = Array.from({ length: 70 }, (_, i) => ({
          runId: `rb#${i + 1}`,
          runbook: 'rb',
          status: 'failed',
          startedBy: 'alice',
        }))),
      check: (s) => {
        expect(s.runbookHistory).toHaveLength(b.runbookHistory);
        expect(s.runbookHistory![0]!.runId).toBe('rb#21');
        expect(runbookRunsRemoved(s)).toBe(20);
      },
    },
    {
      name: 'pages keep the newest 200, recipients 20, errors clipped; pending pages 50',
      arrange: (s) =>
        (s.escalation = {
          policy: 'default',
          level: 1,
          loop: 0,
          pagedAt: {},
          highestLevel: 1,
          exhausted: false,
          pages: Array.from({ length: 300 }, (_, i) => ({
            level: 1,
            target: `t${i}`,
            channel: 'sms',
            at: s.openedAt,
            status: 'failed' as const,
            recipients: Array.from({ length: 30 }, (_, j) => `r${j}`),
            error: 'e'.repeat(10_000),
          })),
          pending: Array.from({ length: 80 }, (_, i) => ({ level: 1, reason: `r${i}` })),
          pagerDutyTriggered: false,
          pagerDutyAcknowledged: false,
        }),
      check: (s) => {
        expect(s.escalation!.pages).toHaveLength(b.pages);
        expect(s.escalation!.pages[0]!.target).toBe('t100');
        expect(s.escalation!.pages[0]!.recipients).toHaveLength(b.pageRecipients);
        expect(utf8Bytes(s.escalation!.pages[0]!.error!)).toBeLessThanOrEqual(b.errorBytes);
        expect(s.escalation!.pending).toHaveLength(b.pendingPages);
      },
    },
    {
      name: 'diagnosis: 10 hypotheses of 20 clipped evidence lines; 20 suggestions; 50 facts',
      arrange: (s) => {
        s.diagnosis = Array.from({ length: 15 }, (_, i) => ({
          cause: `c${i}`,
          confidence: 0.5,
          evidence: Array.from({ length: 40 }, () => 'ev'.repeat(1000)),
          basis: 'b',
        }));
        s.suggestions = Array.from({ length: 30 }, (_, i) => ({
          runbook: `rb${i}`,
          title: 't',
          risk: 'safe' as const,
        }));
        s.facts = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`f${i}`, 'v'.repeat(3000)]));
      },
      check: (s) => {
        expect(s.diagnosis).toHaveLength(b.diagnosis);
        expect(s.diagnosis![0]!.evidence).toHaveLength(b.evidence);
        expect(utf8Bytes(s.diagnosis![0]!.evidence[0]!)).toBeLessThanOrEqual(b.evidenceBytes);
        expect(s.suggestions).toHaveLength(b.suggestions);
        expect(Object.keys(s.facts!)).toHaveLength(b.facts);
        expect(utf8Bytes(s.facts!.f0!)).toBeLessThanOrEqual(b.valueBytes);
      },
    },
    {
      name: 'alert records carried from before the caps get their labels and summary bounded',
      arrange: (s) =>
        (s.alerts.a = {
          ...record('1', 'firing', { alertname: 'A', huge: 'h'.repeat(900_000) }),
          summary: 's'.repeat(900_000),
        }),
      check: (s) => {
        expect(utf8Bytes(s.alerts.a!.labels.huge!)).toBeLessThanOrEqual(1024);
        expect(utf8Bytes(s.alerts.a!.summary)).toBeLessThanOrEqual(b.summaryBytes);
      },
    },
    {
      name: 'a long processed request id is kept as a short hash of itself',
      arrange: (s) => (s.processedRequests = ['short', 'r'.repeat(10_000)]),
      check: (s) => {
        expect(s.processedRequests[0]).toBe('short');
        expect(s.processedRequests[1]).toBe(boundedId('r'.repeat(10_000), b.requestIdBytes));
        expect(s.processedRequests[1]).toMatch(/^h:[0-9a-f]{16}$/);
      },
    },
    {
      name: 'processed request ids keep the newest 500',
      arrange: (s) => (s.processedRequests = Array.from({ length: 700 }, (_, i) => `r${i}`)),
      check: (s) => {
        expect(s.processedRequests).toHaveLength(b.processedRequests);
        expect(s.processedRequests[0]).toBe('r200');
      },
    },
  ];

  it.each(cases)('$name', ({ arrange, check }) => {
    const s = baseState();
    arrange(s);
    enforceCaps(s);
    check(s);
    // Idempotent.
    const once = JSON.stringify(s);
    enforceCaps(s);
    expect(JSON.stringify(s)).toBe(once);
  });

  it('keeps timeline entries the same objects (an archive plan refers to them)', () => {
    const s = baseState();
    const e = entry(1, 'z'.repeat(5000));
    s.timeline.push(e);
    enforceCaps(s);
    expect(s.timeline[1]).toBe(e);
  });
});

describe('planArchive / removeArchived', () => {
  const small: StateBounds = stateBounds({ budgetBytes: 40_000 });

  function grown(entries: number, textBytes = 500): IncidentState {
    const s = baseState();
    for (let i = 1; i <= entries; i++) s.timeline.push(entry(i, 'x'.repeat(textBytes)));
    return s;
  }

  it('plans nothing while the state is within budget and the lists are short', () => {
    expect(planArchive(grown(10), small)).toEqual([]);
  });

  it('over budget: plans the oldest entries down to the target, numbered from the archive so far', () => {
    const s = grown(100);
    const size = serializedSize(s);
    expect(size).toBeGreaterThan(small.budgetBytes);
    const plan = planArchive(s, small);
    expect(plan.length).toBeGreaterThan(0);
    expect(plan[0]).toMatchObject({ kind: 'timeline', fromPosition: 1 });
    expect(plan[0]!.entries[0]).toBe(s.timeline[0]);
    for (const batch of plan) removeArchived(s, batch, true);
    expect(serializedSize(s)).toBeLessThanOrEqual(small.targetBytes);
    const archived = plan.reduce((n, p) => n + p.entries.length, 0);
    expect(s.archive).toMatchObject({ timeline: archived, timelineDropped: 0 });
    expect(s.timeline[0]).toMatchObject({ kind: 'note', text: `${archived} older entries archived` });
    expect(isArchiveMarker(s.timeline[0]!)).toBe(true);
    // The newest entries stay.
    expect(s.timeline[s.timeline.length - 1]!.seq).toBe(101);

    // More growth: the next plan continues the numbering and keeps one marker.
    for (let i = 101; i <= 200; i++) s.timeline.push(entry(i, 'x'.repeat(500)));
    const next = planArchive(s, small);
    expect(next[0]!.fromPosition).toBe(archived + 1);
    expect(next.flatMap((p) => (p.kind === 'timeline' ? p.entries : [])).some(isArchiveMarker)).toBe(false);
    for (const batch of next) removeArchived(s, batch, true);
    expect(s.timeline.filter(isArchiveMarker)).toHaveLength(1);
    expect(s.archive!.timeline).toBe(archived + next.reduce((n, p) => n + p.entries.length, 0));
  });

  it('batches stay under the batch size', () => {
    const s = grown(400, 900);
    const plan = planArchive(s, stateBounds({ budgetBytes: 40_000, archiveBatchBytes: 50_000 }));
    expect(plan.length).toBeGreaterThan(1);
    for (const batch of plan) expect(serializedSize(batch.entries)).toBeLessThanOrEqual(50_000);
    expect(plan[1]!.fromPosition).toBe(plan[0]!.fromPosition + plan[0]!.entries.length);
  });

  it('with a store, a long timeline is archived down to half the threshold even within budget', () => {
    const s = grown(b.archiveTimelineAt, 10);
    expect(serializedSize(s)).toBeLessThan(b.budgetBytes);
    const plan = planArchive(s, b, true);
    const n = plan.reduce((k, p) => k + p.entries.length, 0);
    expect(s.timeline.length - n).toBe(b.archiveTimelineAt / 2);
    expect(planArchive(grown(b.archiveTimelineAt, 10), b, false)).toEqual([]);
  });

  it('without a store the entries are counted as dropped', () => {
    const s = grown(100);
    for (const batch of planArchive(s, small, false)) removeArchived(s, batch, false);
    expect(s.archive!.timeline).toBe(0);
    expect(s.archive!.timelineDropped).toBeGreaterThan(0);
    expect(s.timeline[0]!.text).toMatch(/^0 older entries archived; \d+ dropped \(no store\)$/);
  });

  it('archives old runbook runs when the timeline alone is not enough, keeping the newest five', () => {
    const s = baseState();
    s.runbookHistory = Array.from({ length: 30 }, (_, i) => ({
      runId: `rb#${i + 1}`,
      runbook: 'r'.repeat(2000),
      status: 'failed',
      startedBy: 'alice',
    }));
    const plan = planArchive(s, small);
    const runs = plan.filter((p) => p.kind === 'runbook_history');
    expect(runs.length).toBeGreaterThan(0);
    for (const batch of plan) removeArchived(s, batch, true);
    expect(s.runbookHistory.length).toBeGreaterThanOrEqual(5);
    expect(runbookRunsRemoved(s)).toBe(30 - s.runbookHistory.length);
    expect(s.runbookHistory[s.runbookHistory.length - 1]!.runId).toBe('rb#30');
  });

  it('an entry the timeline dropped meanwhile is not removed twice', () => {
    const s = grown(100);
    const [batch] = planArchive(s, small);
    s.timeline.splice(1, 1); // gone meanwhile
    const before = s.timeline.length;
    removeArchived(s, batch!, true);
    expect(s.timeline.length).toBe(before - (batch!.entries.length - 1) + 1);
  });
});

describe('compactAlerts', () => {
  it('shrinks resolved, least recently seen records first until under the target; never removes one', () => {
    const s = baseState();
    for (let i = 0; i < 60; i++) {
      const labels: Record<string, string> = { alertname: 'A', severity: 'P2' };
      for (let j = 0; j < 10; j++) labels[`l${j}`] = 'v'.repeat(100);
      s.alerts[`fp${i}`] = record(String(i), i % 2 === 0 ? 'resolved' : 'firing', labels);
    }
    const bounds = stateBounds({ budgetBytes: 100_000 });
    expect(serializedSize(s)).toBeGreaterThan(bounds.budgetBytes);
    const n = compactAlerts(s, bounds);
    expect(n).toBeGreaterThan(0);
    expect(Object.keys(s.alerts)).toHaveLength(60);
    expect(serializedSize(s)).toBeLessThanOrEqual(bounds.targetBytes);
    expect(s.alerts.fp0).toMatchObject({ compacted: true, labels: { alertname: 'A', severity: 'P2' } });
    const compacted = Object.values(s.alerts).filter((a) => a.compacted);
    // Resolved ones go before any firing one.
    if (compacted.some((a) => a.status === 'firing'))
      expect(Object.values(s.alerts).filter((a) => a.status === 'resolved' && !a.compacted)).toEqual([]);
    expect(compactAlerts(s, bounds)).toBe(0);
  });
});

describe('applyAlerts with compact keys', () => {
  it('remembers long delivery keys as short hashes and still deduplicates', () => {
    const s = baseState();
    const a = {
      fingerprint: 'fp',
      status: 'firing' as const,
      source: 'alertmanager' as const,
      name: 'A',
      labels: { alertname: 'A' },
      annotations: {},
      startsAt: '2026-11-25T09:45:00.000Z',
      groupKey: `{}:{${'x'.repeat(500)}}`,
      severity: 'P2' as const,
    };
    applyAlerts(s, [a], '2026-11-25T09:46:00.000Z', undefined, { compactKeys: true });
    const second = applyAlerts(s, [a], '2026-11-25T09:47:00.000Z', undefined, { compactKeys: true });
    expect(second.duplicates).toBe(1);
    expect(s.seen).toHaveLength(1);
    expect(s.seen[0]).toMatch(/^h:[0-9a-f]{16}$/);
  });

  it('counts deliveries that arrived truncated', () => {
    const s = baseState();
    applyAlerts(
      s,
      [
        {
          fingerprint: 'fp',
          status: 'firing',
          source: 'generic',
          name: 'A',
          labels: {},
          annotations: {},
          startsAt: '2026-11-25T09:45:00.000Z',
          severity: 'P2',
          truncation: { labelsDropped: 1, annotationsDropped: 0, valuesTruncated: 2 },
        },
      ],
      '2026-11-25T09:46:00.000Z',
    );
    expect(s.counters.alertsTruncated).toBe(1);
    expect(s.alerts.fp!.truncation).toEqual({ labelsDropped: 1, annotationsDropped: 0, valuesTruncated: 2 });
  });
});
