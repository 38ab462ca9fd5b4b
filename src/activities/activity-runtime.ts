import { Context } from '@temporalio/activity';

/**
 * What a polling activity needs from Temporal: the cancellation signal, heartbeats and the details of
 * the previous attempt's last heartbeat. Outside an activity context (plain unit tests) it degrades to
 * no signal, no-op heartbeats and no details.
 */
export interface ActivityRuntime {
  signal: AbortSignal | undefined;
  heartbeat(details: unknown): void;
  /** Details of the last heartbeat recorded by a previous attempt of this activity, if any. */
  heartbeatDetails: unknown;
  /** 1 for the first attempt of this activity; more when Temporal retries it. */
  attempt: number;
}

export function currentActivityRuntime(): ActivityRuntime {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return { signal: undefined, heartbeat: () => undefined, heartbeatDetails: undefined, attempt: 1 };
  }
  return {
    signal: ctx.cancellationSignal,
    heartbeat: (details) => ctx.heartbeat(details),
    heartbeatDetails: ctx.info.heartbeatDetails as unknown,
    attempt: ctx.info.attempt,
  };
}
