import type { DeploymentEvent } from '../domain/generic-alert';
import type { DeploymentRecorder } from './deps';

/** In-process deployment recorder (tests, and the API before a store is configured). */
export function createMemoryDeploymentRecorder(): DeploymentRecorder & {
  events: Array<DeploymentEvent & { time: string }>;
} {
  const events: Array<DeploymentEvent & { time: string }> = [];
  return {
    events,
    record(event) {
      const exists = events.some(
        (e) => e.service === event.service && e.version === event.version && e.time === event.time,
      );
      if (!exists) events.push(event);
      return Promise.resolve({ created: !exists });
    },
  };
}
