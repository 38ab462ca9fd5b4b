import { ApplicationFailure } from '@temporalio/common';
import type { Store } from '../adapters/store';
import { type ArchiveKind, incidentArchive } from '../adapters/store/incident-archive';
import { ErrorType } from '../domain/errors';

/** Input of {@link createArchiveActivities}' `archiveIncidentEntries`. */
export interface ArchiveEntriesInput {
  incidentKey: string;
  kind: ArchiveKind;
  /** Archive position of the first entry; the workflow numbers batches so a retry rewrites the same rows. */
  fromPosition: number;
  entries: object[];
}

/** Moving state out of a running incident into the store (idempotent by position). */
export function createArchiveActivities(deps: { store: Store }) {
  // Opened on first use: without a store the group exists only for its activity names.
  let archive: ReturnType<typeof incidentArchive> | undefined;
  return {
    /** Stores timeline entries or runbook runs the workflow is about to drop from its state. */
    async archiveIncidentEntries(input: ArchiveEntriesInput): Promise<{ stored: number }> {
      try {
        archive ??= incidentArchive(deps.store.sqlClient());
        return {
          stored: await archive.archive(input.incidentKey, input.kind, input.fromPosition, input.entries),
        };
      } catch (err) {
        // Bad input never gets better with retries.
        if (err instanceof TypeError)
          throw ApplicationFailure.create({
            type: ErrorType.Rejected,
            message: err.message,
            nonRetryable: true,
          });
        throw err;
      }
    },
  };
}
