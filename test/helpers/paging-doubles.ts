/** Slack and Twilio doubles for escalation tests, with the worker environment that points the adapters at them. */
import type { IncidentView } from '../../src/domain/incident-view';
import { startSlackDouble, type SlackDouble } from '../doubles/slack-double';
import { startTwilioDouble, type TwilioDouble } from '../doubles/twilio-double';

export const TWILIO_SID = 'AC0123456789abcdef0123456789abcdef';
export const SLACK_TOKEN = 'xoxb-test';

export interface PagingDoubles {
  slack: SlackDouble;
  twilio: TwilioDouble;
  /** Worker environment wiring the Slack and Twilio adapters to the doubles. */
  workerEnv(): Record<string, string>;
  close(): Promise<void>;
}

export async function startPagingDoubles(twilioAuthToken = 'secret'): Promise<PagingDoubles> {
  const slack = await startSlackDouble({ token: SLACK_TOKEN });
  const twilio = await startTwilioDouble({ accountSid: TWILIO_SID, authToken: twilioAuthToken });
  return {
    slack,
    twilio,
    workerEnv: () => ({
      SLACK_BOT_TOKEN: SLACK_TOKEN,
      SLACK_API_URL: slack.apiUrl,
      TWILIO_ACCOUNT_SID: TWILIO_SID,
      TWILIO_AUTH_TOKEN: twilioAuthToken,
      TWILIO_FROM_NUMBER: '+15005550006',
      TWILIO_API_URL: twilio.url,
    }),
    close: async () => {
      await slack.close();
      await twilio.close();
    },
  };
}

/** Minutes from opening to the page of a 1-based escalation level, or undefined when it was not paged. */
export function minutesAfterOpen(v: IncidentView, level: number): number | undefined {
  const at = v.escalation?.pagedAt[String(level)];
  return at === undefined ? undefined : (Date.parse(at) - Date.parse(v.openedAt)) / 60_000;
}
