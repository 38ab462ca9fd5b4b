/**
 * Chaos kill point "before the activity": an activity inbound interceptor for the test worker process that
 * SIGKILLs the worker's whole process group when a matching activity starts its first attempt, before the
 * activity function runs (so it did no side effect yet).
 */
import { Context } from '@temporalio/activity';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** Which activity start kills the worker. */
export interface KillOnActivity {
  /** Activity type, e.g. `airflowClearTask`. */
  type: string;
  /** Only a start whose JSON-encoded arguments contain this text counts. */
  argIncludes?: string;
  /** The n-th matching first attempt (1-based, default 1) kills; earlier ones run normally. */
  nth?: number;
}

/** The interceptor factory for `Worker.create({ interceptors: { activity: [...] } })`. */
export function killOnActivityInterceptor(rule: KillOnActivity): ActivityInterceptorsFactory {
  let seen = 0;
  return () => {
    const inbound: ActivityInboundCallsInterceptor = {
      execute: (input, next) => {
        const info = Context.current().info;
        const matches =
          info.activityType === rule.type &&
          info.attempt === 1 &&
          (rule.argIncludes === undefined || JSON.stringify(input.args).includes(rule.argIncludes));
        if (matches && ++seen === (rule.nth ?? 1)) {
          // Written synchronously so the test sees which activity the worker died in.
          process.stdout.write(`chaos-kill ${info.activityType}\n`);
          // The worker was spawned detached: it leads its own process group (kubectl children included).
          process.kill(-process.pid, 'SIGKILL');
        }
        return next(input);
      },
    };
    return { inbound };
  };
}
