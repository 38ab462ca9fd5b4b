import { observeHold, type HoldProgress } from '../domain/hold';
import type { ActivityRuntime } from './activity-runtime';
import type { Clock } from './clock';

export interface Observation<T> {
  ok: boolean;
  value: T;
  /** The observed thing can no longer change on its own (e.g. a failed run): stop early. */
  final?: boolean;
}

export type HoldOutcome<T> =
  | { held: true; since: number; polls: number; last: T }
  | { held: false; reason: 'deadline' | 'final'; since: number | null; polls: number; last: T };

/**
 * Polls `probe` every `pollIntervalMs` until it has been ok continuously for `holdForMs` (held), the
 * deadline passes, or a not-ok observation is final. Heartbeats after every observation with
 * `details(progress, value)`; sleeps on the injected clock with the cancellation signal. The last poll
 * happens at the deadline itself.
 */
export async function pollForHold<T>(args: {
  clock: Clock;
  runtime: ActivityRuntime;
  holdForMs: number;
  deadlineAtMs: number;
  pollIntervalMs: number;
  resume: HoldProgress;
  probe: (signal: AbortSignal | undefined) => Promise<Observation<T>>;
  details: (progress: HoldProgress, value: T) => unknown;
}): Promise<HoldOutcome<T>> {
  const { clock, runtime } = args;
  let progress = args.resume;
  for (;;) {
    const at = clock.now();
    const obs = await args.probe(runtime.signal);
    const step = observeHold(progress, obs.ok, at, args.holdForMs);
    progress = step.progress;
    runtime.heartbeat(args.details(progress, obs.value));
    if (step.held) return { held: true, since: progress.since ?? at, polls: progress.polls, last: obs.value };
    if (obs.final && !obs.ok) {
      return { held: false, reason: 'final', since: progress.since, polls: progress.polls, last: obs.value };
    }
    const remaining = args.deadlineAtMs - clock.now();
    if (remaining <= 0) {
      return {
        held: false,
        reason: 'deadline',
        since: progress.since,
        polls: progress.polls,
        last: obs.value,
      };
    }
    await clock.sleep(Math.min(Math.max(1, args.pollIntervalMs), remaining), runtime.signal);
  }
}
