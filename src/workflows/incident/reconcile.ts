import { condition } from '@temporalio/workflow';
import { applyAlerts, type RoutedAlert } from '../../domain/incident';
import { quick } from './proxies';
import { act, failureMessage, intakeOptions, isClosed, note, nowIso, type Runtime, touch } from './runtime';

const DEFAULT_INTERVAL_MS = 10 * 60_000;

/**
 * Orphaned alerts: Alertmanager sends no "resolved" for an alert that was silenced or inhibited after it
 * fired, or that vanished while a notification was lost. On a slow timer, open incidents ask
 * Alertmanager (`GET /api/v2/alerts`) which of their firing alerts are still active and unsuppressed;
 * the others are resolved here, so such incidents do not stay open forever.
 */
export async function runReconcile(rt: Runtime): Promise<void> {
  if (!rt.features.alertmanager) return;
  const interval = rt.input.settings.reconcileIntervalMs ?? DEFAULT_INTERVAL_MS;
  while (!isClosed(rt)) {
    await condition(() => isClosed(rt), interval, { summary: 'reconcile alerts with Alertmanager' });
    if (isClosed(rt)) return;
    const firing = Object.values(rt.state.alerts).filter(
      (a) => a.status === 'firing' && a.source === 'alertmanager',
    );
    if (firing.length === 0) continue;
    let states: Record<string, 'active' | 'suppressed' | 'absent'>;
    try {
      states = (
        await act(rt, () => quick.alertmanagerAlertStates({ fingerprints: firing.map((a) => a.fingerprint) }))
      ).states;
    } catch (err) {
      note(rt, 'note', `Could not reconcile alerts with Alertmanager: ${failureMessage(err).message}`);
      continue;
    }
    const at = nowIso();
    const gone: RoutedAlert[] = firing
      .filter((a) => states[a.fingerprint] !== undefined && states[a.fingerprint] !== 'active')
      .map((a) => ({
        fingerprint: a.fingerprint,
        status: 'resolved',
        source: 'reconcile',
        name: a.name,
        labels: a.labels,
        annotations: { summary: a.summary },
        startsAt: a.startsAt,
        endsAt: at,
        groupKey: 'reconcile',
        severity: a.severity,
      }));
    if (gone.length === 0) continue;
    for (const a of gone) {
      const why =
        states[a.fingerprint] === 'suppressed'
          ? 'silenced or inhibited in Alertmanager'
          : 'no longer in Alertmanager';
      note(rt, 'alert_resolved', `${a.name} treated as resolved: ${why}`, {
        actor: 'system',
        data: { fingerprint: a.fingerprint },
      });
    }
    applyAlerts(rt.state, gone, at, rt.limits, intakeOptions(rt));
    touch(rt);
  }
}
