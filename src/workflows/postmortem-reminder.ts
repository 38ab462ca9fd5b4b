import { proxyActivities, sleep } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { postmortemStatus, notifySlack } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 20, maximumInterval: '5m' },
});

export interface PostmortemReminderInput {
  incidentKey: string;
  incidentId: string;
  number?: string;
  slack?: { channel: string; ts: string };
  /** Review deadline after the postmortem was drafted (default 24 h). */
  reviewWithinMs?: number;
}

/**
 * Reminds the incident's Slack thread when its postmortem is not marked reviewed within 24 h of being
 * drafted. Started by the incident workflow (parent close policy ABANDON), one per incident.
 */
export async function postmortemReminderWorkflow(
  input: PostmortemReminderInput,
): Promise<'reviewed' | 'reminded' | 'missing'> {
  await sleep(input.reviewWithinMs ?? 24 * 3_600_000);
  const status = await postmortemStatus({ incidentKey: input.incidentKey });
  if (!status.exists) return 'missing';
  if (status.reviewedAt) return 'reviewed';
  if (input.slack) {
    await notifySlack({
      channel: input.slack.channel,
      threadTs: input.slack.ts,
      text: `:memo: Reminder: the postmortem of ${input.number ?? input.incidentId} is not reviewed yet (drafted ${status.generatedAt}). Mark it reviewed: POST /api/v1/incidents/${encodeURIComponent(input.number ?? input.incidentId)}/postmortem/review`,
    });
  }
  return 'reminded';
}
