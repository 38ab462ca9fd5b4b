import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Clock } from '../../src/activities/clock';

/**
 * Activity time that follows the time-skipping server: `sleep` asks the server to skip, and `now` reads
 * the server's time as of the last sleep (plus real time since), so an activity's waits and its
 * measurements agree with workflow time.
 */
export async function skippingClock(env: TestWorkflowEnvironment): Promise<Clock> {
  let base = await env.currentTimeMs();
  let baseReal = Date.now();
  return {
    now: () => base + (Date.now() - baseReal),
    sleep: async (ms) => {
      await env.sleep(ms);
      base = await env.currentTimeMs();
      baseReal = Date.now();
    },
  };
}
