import { isHttpFailure } from '../adapters/http-client';
import type { SlackBlock, SlackClient, SlackMessageRef } from '../adapters/slack';

/** A message to post to a Slack channel or thread. */
export interface SlackNotice {
  channel: string;
  threadTs?: string;
  text: string;
  blocks?: SlackBlock[];
  /**
   * Makes the post idempotent: the message carries the key as metadata, and a call that may repeat an
   * earlier one (a retry, or `retried`) first looks for a message with the key and returns it instead of
   * posting again.
   */
  idempotencyKey?: string;
  /** When the first attempt of this post started (epoch ms): the lookup reads history from there. */
  firstTriedAt?: number;
  /** True when an earlier activity with the same key failed (its request may still have gone through). */
  retried?: boolean;
}

/**
 * Posts `notice` at most once per `idempotencyKey`. Slack's `chat.postMessage` has no idempotency key of
 * its own, so a response lost after Slack stored the message (a timeout, a worker crash) would post it
 * twice; instead a repeated call reads the channel (or thread) history for the key first. When that
 * lookup is refused for good (a missing `channels:history` scope, say), the post goes out anyway: a
 * duplicate message is better than a lost one.
 */
export async function postOnce(
  slack: SlackClient,
  notice: SlackNotice,
  attempt: number,
  warn: (message: string) => void = () => undefined,
): Promise<SlackMessageRef> {
  const key = notice.idempotencyKey;
  if (key && (attempt > 1 || notice.retried === true)) {
    try {
      const found = await slack.findPosted({
        channel: notice.channel,
        key,
        sinceMs: notice.firstTriedAt ?? 0,
        ...(notice.threadTs ? { threadTs: notice.threadTs } : {}),
      });
      if (found) return found;
    } catch (err) {
      if (!isHttpFailure(err) || err.class.kind !== 'final') throw err;
      warn(`Slack history lookup refused (${err.message}); posting without it`);
    }
  }
  return slack.postMessage({
    channel: notice.channel,
    text: notice.text,
    ...(notice.blocks ? { blocks: notice.blocks } : {}),
    ...(notice.threadTs ? { threadTs: notice.threadTs } : {}),
    ...(key ? { idempotencyKey: key } : {}),
  });
}
