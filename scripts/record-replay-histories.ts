/**
 * Records golden workflow histories for the replay tests (test/replay/histories/<scenario>.json).
 * Run after a deliberate workflow change that adds a scenario: `node --import tsx scripts/record-replay-histories.ts [name...]`.
 * Existing files are never overwritten unless --force is given: old histories must keep replaying.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { resolveTool } from '../src/config/tools';
import { ALL_SEARCH_ATTRIBUTES } from '../src/workflows/search-attributes';
import { SCENARIOS } from '../test/replay/scenarios';
import { shippedConfig } from '../test/helpers/app';
import { buildActivities } from '../src/composition';
import { loadEnv } from '../src/config/env';
import { startSlackDouble } from '../test/doubles/slack-double';

async function main(): Promise<void> {
  const force = process.argv.includes('--force');
  const wanted = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const temporal = resolveTool('temporal');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: temporal },
      searchAttributes: [...ALL_SEARCH_ATTRIBUTES],
    },
  });
  try {
    for (const scenario of SCENARIOS) {
      if (wanted.length > 0 && !wanted.includes(scenario.name)) continue;
      const file = resolve(__dirname, '..', 'test', 'replay', 'histories', `${scenario.name}.json`);
      if (existsSync(file) && !force) {
        console.log(`skip ${scenario.name}: ${file} exists (use --force to re-record)`);
        continue;
      }
      const taskQueue = `record-${scenario.name}`;
      const slack = scenario.slack ? await startSlackDouble({ token: 'xoxb-replay' }) : undefined;
      const activityEnv = slack ? { SLACK_BOT_TOKEN: 'xoxb-replay', SLACK_API_URL: slack.apiUrl } : {};
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowsPath: require.resolve('../src/workflows'),
        activities:
          scenario.realActivities || slack
            ? buildActivities({
                env: loadEnv(activityEnv),
                config: () => shippedConfig,
                lookupEnv: () => undefined,
              })
            : {},
      });
      const { workflowId, runId } = await worker
        .runUntil(scenario.run(env.client, taskQueue, { ...(slack ? { slack } : {}) }))
        .finally(() => slack?.close());
      const json = execFileSync(
        temporal,
        ['workflow', 'show', '--address', env.address, '-w', workflowId, '-r', runId, '--output', 'json'],
        { maxBuffer: 64 * 1024 * 1024 },
      );
      writeFileSync(file, json);
      console.log(`recorded ${scenario.name} → ${file}`);
    }
  } finally {
    await env.teardown();
  }
}

void main();
