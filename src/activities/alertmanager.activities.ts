import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { classifyHttpStatus, ErrorType } from '../domain/errors';
import type { Clock } from './clock';

const ApiAlert = z.looseObject({
  fingerprint: z.string(),
  status: z.looseObject({ state: z.enum(['active', 'suppressed', 'unprocessed']) }),
});

export interface AlertmanagerDeps {
  /** Base URL (ALERTMANAGER_URL). */
  baseUrl?: string;
  clock: Clock;
  fetch?: typeof fetch;
}

/**
 * Reads Alertmanager's view of alerts (`GET /api/v2/alerts`) so incidents can reconcile alerts that will
 * never send "resolved" (silenced or inhibited after they fired).
 */
export function createAlertmanagerActivities(deps: AlertmanagerDeps) {
  const doFetch = deps.fetch ?? fetch;
  return {
    /** For each fingerprint: `active`, `suppressed` (silenced/inhibited) or `absent` (resolved or expired). */
    async alertmanagerAlertStates(input: {
      fingerprints: string[];
    }): Promise<{ states: Record<string, 'active' | 'suppressed' | 'absent'> }> {
      if (!deps.baseUrl) {
        throw ApplicationFailure.create({
          type: ErrorType.NotConfigured,
          message: 'ALERTMANAGER_URL is not set',
          nonRetryable: true,
        });
      }
      const url = `${deps.baseUrl.replace(/\/$/, '')}/api/v2/alerts?active=true&silenced=true&inhibited=true&unprocessed=true`;
      let res: Response;
      try {
        res = await doFetch(url, { signal: AbortSignal.timeout(15_000) });
      } catch {
        throw ApplicationFailure.create({ type: ErrorType.Unavailable, message: 'Alertmanager unreachable' });
      }
      if (!res.ok) {
        const cls = classifyHttpStatus(res.status, res.headers.get('retry-after'), deps.clock.now());
        throw ApplicationFailure.create({
          type: cls.kind === 'final' ? cls.type : ErrorType.Unavailable,
          message: `Alertmanager answered ${res.status}`,
          nonRetryable: cls.kind === 'final',
        });
      }
      const alerts = z.array(ApiAlert).parse(await res.json());
      const byFp = new Map(alerts.map((a) => [a.fingerprint, a.status.state]));
      const states: Record<string, 'active' | 'suppressed' | 'absent'> = {};
      for (const fp of input.fingerprints) {
        const state = byFp.get(fp);
        states[fp] = state === undefined ? 'absent' : state === 'suppressed' ? 'suppressed' : 'active';
      }
      return { states };
    },
  };
}
