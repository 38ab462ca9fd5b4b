import { bundleWorkflowCode } from '@temporalio/worker';

const silent = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

describe('workflow bundle', () => {
  it('bundles src/workflows: no forbidden (non-deterministic or Node) imports are reachable', async () => {
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../../src/workflows'),
      logger: silent,
    });
    expect(code).toContain('incidentWorkflow');
    // Nothing from the I/O layers made it into the sandbox.
    for (const forbidden of ['prom-client', 'fastify', '@slack/web-api', 'pglite', 'child_process']) {
      expect(code).not.toContain(`node_modules/${forbidden}`);
    }
  });

  it('refuses workflow code that imports a Node built-in (the check above can fail)', async () => {
    const workflowsPath = require.resolve('./fixtures/forbidden-import-workflows');
    await expect(bundleWorkflowCode({ workflowsPath, logger: silent })).rejects.toThrow(
      /disallowed modules/i,
    );
  });
});
