/**
 * Runs the Slack Web API test double standalone (used by `npm run demo` when no real SLACK_BOT_TOKEN is set).
 *
 *   node --import tsx scripts/slack-double.ts [port]
 *
 * Port: argv[2], else SLACK_DOUBLE_PORT, else 4010 (0 picks a free one). Host: SLACK_DOUBLE_HOST
 * (default 127.0.0.1). Token: SLACK_DOUBLE_TOKEN (default: any `xox…` token is accepted).
 * The first stdout line is `SLACK_API_URL=<url>`; inspect traffic at `<url>/_double/calls` and
 * `<url>/_double/messages`.
 */
import { startSlackDouble } from '../test/doubles/slack-double';

function parsePort(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`invalid port: ${value}`);
  return port;
}

async function main(): Promise<void> {
  const port = parsePort(process.argv[2]) ?? parsePort(process.env.SLACK_DOUBLE_PORT) ?? 4010;
  const double = await startSlackDouble({
    port,
    host: process.env.SLACK_DOUBLE_HOST ?? '127.0.0.1',
    ...(process.env.SLACK_DOUBLE_TOKEN ? { token: process.env.SLACK_DOUBLE_TOKEN } : {}),
  });
  console.log(`SLACK_API_URL=${double.apiUrl}`);
  console.log(`Slack double listening on ${double.url} (calls: ${double.url}/_double/calls)`);
  const stop = (): void => {
    double.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`slack double failed: ${String(err)}`);
  process.exit(1);
});
