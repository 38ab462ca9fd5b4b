/**
 * Pre-bundles the workflow code for production (`npm run build`): the worker loads
 * dist/src/workflow-bundle.js instead of bundling at start-up.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
  const out = resolve(__dirname, '..', 'dist', 'src', 'workflow-bundle.js');
  writeFileSync(out, code);
  console.log(`wrote ${out} (${(code.length / 1024).toFixed(0)} KiB)`);
}

void main();
