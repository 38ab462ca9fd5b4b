import type { Store } from '../adapters/store';
import type { DeploymentRecorder } from './deps';
import { HttpError } from './errors';

/**
 * Deployment markers go to the incident store, where diagnosis finds them ("deployment v2.3.1 of
 * customer_etl, 2 min before the failure spike"). Without a store (an API-only process on the embedded
 * database) markers are refused with 503 rather than silently dropped.
 */
export function storeDeploymentRecorder(store: Store | undefined): DeploymentRecorder {
  return {
    async record(event) {
      if (!store) {
        throw new HttpError(
          503,
          'store_unavailable',
          'the incident store is not available in this process (set DATABASE_URL)',
        );
      }
      const before = await store.recentDeployments(
        event.service,
        Date.parse(event.time),
        Date.parse(event.time),
      );
      await store.recordDeployment({
        service: event.service,
        version: event.version,
        at: event.time,
        ...(event.description ? { description: event.description } : {}),
        ...(event.source ? { source: event.source } : {}),
      });
      return { created: !before.some((d) => d.version === event.version) };
    },
  };
}
