import { createSlackClient } from '../../../src/adapters/slack';
import { postOnce } from '../../../src/activities/slack-post';
import { type SlackDouble, startSlackDouble } from '../../doubles/slack-double';

const TOKEN = 'xoxb-test-post-once';
let slack: SlackDouble;
beforeAll(async () => {
  slack = await startSlackDouble({ token: TOKEN, channels: { '#data-incidents': 'C0INCIDENTS' } });
});
afterAll(() => slack.close());
beforeEach(() => slack.reset());

const client = () => createSlackClient({ token: TOKEN, slackApiUrl: slack.apiUrl, timeoutMs: 5_000 });
const notice = {
  channel: '#data-incidents',
  text: 'incident',
  idempotencyKey: 'inc-1/root/0',
  firstTriedAt: 0,
};

describe('postOnce', () => {
  it('posts on a first attempt without reading the history', async () => {
    await postOnce(client(), notice, 1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
    expect(slack.callsTo('conversations.history')).toHaveLength(0);
  });

  it('returns the message a lost response already posted, on a retry or a repeated call', async () => {
    slack.loseResponseOfNext('chat.postMessage');
    await expect(postOnce(client(), notice, 1)).rejects.toThrow();
    const onRetry = await postOnce(client(), notice, 2);
    const onRepeat = await postOnce(client(), { ...notice, retried: true }, 1);
    expect(slack.messages('#data-incidents')).toHaveLength(1);
    expect(onRetry).toEqual({ channel: 'C0INCIDENTS', ts: slack.messages('#data-incidents')[0]!.ts });
    expect(onRepeat).toEqual(onRetry);
  });

  it('posts on a retry when nothing with the key was posted', async () => {
    slack.failNext('chat.postMessage', { status: 503 });
    await expect(postOnce(client(), notice, 1)).rejects.toThrow();
    await postOnce(client(), notice, 2);
    expect(slack.messages('#data-incidents')).toHaveLength(1);
  });

  it('posts anyway, and says so, when the history lookup is refused for good', async () => {
    slack.failNext('conversations.list', { error: 'missing_scope' });
    const warnings: string[] = [];
    await postOnce(client(), notice, 2, (m) => warnings.push(m));
    expect(slack.messages('#data-incidents')).toHaveLength(1);
    expect(warnings).toEqual([
      'Slack history lookup refused (slack conversations.list: missing_scope); posting without it',
    ]);
  });

  it('fails, without posting, when the history lookup fails for a retryable reason', async () => {
    slack.failNext('conversations.history', { status: 503 });
    await expect(postOnce(client(), { ...notice, channel: 'C0INCIDENTS' }, 2)).rejects.toThrow(/503/);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(0);
  });
});
