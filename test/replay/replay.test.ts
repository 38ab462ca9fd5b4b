import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, ReplayError, Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/temporal';

const dir = resolve(__dirname, 'histories');
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => [f, JSON.parse(readFileSync(resolve(dir, f), 'utf8')) as unknown] as const)
  .map(([f, json]) => [f, historyFromJSON(json)] as const);

describe('replay of recorded incident histories', () => {
  it('has recorded histories to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(3);
  });

  it.each(histories)(
    '%s replays deterministically with the current workflow code',
    async (_file, history) => {
      await expect(
        Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history),
      ).resolves.toBeUndefined();
    },
  );

  it('detects a workflow change that breaks determinism', async () => {
    const drifted = await bundleWorkflowCode({
      workflowsPath: require.resolve('./fixtures/drifted-workflows'),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      },
    });
    const [, history] = histories.find(([f]) => f === 'v1-auto-resolve.json')!;
    const failure = await Worker.runReplayHistory({ workflowBundle: drifted }, history).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure instanceof DeterminismViolationError || failure instanceof ReplayError).toBe(true);
  });
});
