/**
 * Checks every chaos cell makes after its incident closed: the stored timeline has no gap and every step
 * started and finished, and no side effect any incident makes (root message, pages, SMS, calls) repeated.
 */
import type { Store } from '../../src/adapters/store';
import type { IncidentView } from '../../src/domain/incident-view';
import type { CellDoubles } from './doubles';
import type { Scenario } from './scenarios';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Groups of more than one equal key, as problems. */
function duplicates(what: string, keys: string[]): string[] {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${what} ${n} times: ${k.slice(0, 160)}`);
}

export function commonSideEffectProblems(d: CellDoubles): string[] {
  const posts = d.slack.callsTo('chat.postMessage').filter((c) => c.status < 300 && c.response);
  const ok = posts.filter((c) => (c.response as { ok?: boolean }).ok === true);
  const problems = duplicates(
    'Slack post',
    ok.map((c) =>
      [c.body.channel, c.body.thread_ts, c.body.text].map((v) => (typeof v === 'string' ? v : '')).join('|'),
    ),
  );
  // The incident's own message; the L1 page to the channel is a separate post (checked as a duplicate above).
  const roots = ok.filter(
    (c) =>
      c.body.thread_ts === undefined &&
      typeof c.body.text === 'string' &&
      c.body.text.startsWith('Incident '),
  );
  if (roots.length !== 1) problems.push(`Slack root messages: ${roots.length} (expected 1)`);
  problems.push(
    ...duplicates(
      'Twilio request',
      d.twilio.requests
        .filter((r) => r.status < 300)
        .map((r) => `${r.path}|${r.form.To ?? ''}|${r.form.Body ?? r.form.Twiml ?? r.form.Url ?? ''}`),
    ),
  );
  problems.push(
    ...duplicates(
      'PagerDuty trigger',
      d.pagerduty.events
        .filter((e) => e.event_action === 'trigger')
        .map(
          (e) =>
            `${e.dedup_key}|${e.payload?.summary ?? ''}|${JSON.stringify(e.payload?.custom_details ?? {})}`,
        ),
    ),
  );
  return problems;
}

/**
 * The store's timeline (written by the worker processes) is contiguous from seq 1 to the workflow's last
 * seq, and each runbook step started once and finished successfully, in order.
 */
export async function timelineProblems(
  store: Store,
  incidentId: string,
  view: IncidentView,
  scenario: Scenario,
): Promise<string[]> {
  const problems: string[] = [];
  // The workflow's own timeline: every entry numbered, contiguous from 1.
  view.timeline.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`workflow timeline gap: entry ${i + 1} has seq ${e.seq}`);
  });
  // The store's copy (written by whichever worker process was alive) is the same timeline: the learn
  // part records it once resolved, and the rest with the `closed` record after the postmortem.
  let events: Awaited<ReturnType<Store['getIncidentEvents']>> = [];
  const deadline = Date.now() + 60_000;
  for (;;) {
    const incident = await store.getIncident(incidentId);
    events = incident ? await store.getIncidentEvents(incident.incidentKey) : [];
    if (incident?.status === 'closed' && events.length >= view.timeline.length) break;
    if (Date.now() > deadline) {
      problems.push(
        `store: incident ${incident?.status ?? 'missing'} with ${events.length} of ${view.timeline.length} timeline entries`,
      );
      break;
    }
    await sleep(500);
  }
  const bySeq = new Map(view.timeline.map((e) => [e.seq, e]));
  events.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`stored timeline gap: entry ${i + 1} has seq ${e.seq}`);
    const live = bySeq.get(e.seq);
    if (!live || live.text !== e.text || live.kind !== e.kind)
      problems.push(`stored timeline entry ${e.seq} differs from the workflow's`);
  });
  const unstored = view.timeline.filter((e) => (e.seq ?? 0) > events.length);
  if (unstored.length > 0)
    problems.push(`${unstored.length} timeline entries never stored (first: ${unstored[0]!.text})`);
  if (problems.length > 5) problems.splice(5, problems.length - 5, '… more timeline problems');

  const run = view.runbook;
  const stepOf = (e: (typeof events)[number]) => e.data?.step;
  let lastIndex = -1;
  for (const { step } of scenario.steps) {
    const st = run?.steps[step];
    if (!st || st.status !== 'succeeded' || !st.startedAt || !st.finishedAt)
      problems.push(
        `step ${step}: ${st?.status ?? 'missing'} (started ${st?.startedAt ?? '-'}, finished ${st?.finishedAt ?? '-'})`,
      );
    const mine = events.filter((e) => stepOf(e) === step);
    if (mine.length === 0) {
      problems.push(`step ${step}: not in the timeline`);
      continue;
    }
    const first = events.indexOf(mine[0]!);
    if (first < lastIndex) problems.push(`step ${step}: in the timeline before the step ahead of it`);
    lastIndex = events.indexOf(mine.at(-1)!);
    const starts = mine.filter((e) => e.kind === 'step_started').length;
    const ends = mine.filter((e) => e.kind === 'step_succeeded' || e.kind === 'step_failed').length;
    if (starts !== ends) problems.push(`step ${step}: ${starts} starts but ${ends} ends in the timeline`);
  }
  return problems;
}
