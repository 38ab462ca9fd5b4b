/**
 * The incident archive: timeline entries and runbook runs a running incident moved out of its workflow
 * state (table `incident_archive`). Rows are keyed by (incident, kind, position), so archiving the same
 * batch twice (an activity retry) leaves one copy.
 */

/** What was archived: timeline entries or runbook runs. */
export type ArchiveKind = 'timeline' | 'runbook_history';

export const ARCHIVE_KINDS: readonly ArchiveKind[] = ['timeline', 'runbook_history'];

/** One archived item, as the workflow held it (JSON-plain). */
export interface ArchivedItem {
  kind: ArchiveKind;
  /** 1-based position in the incident's archive of this kind, oldest first. */
  position: number;
  entry: Record<string, unknown>;
  archivedAt: string;
}

/** The query surface of the store's connection (`Store.sqlClient()`). */
export interface ArchiveSql {
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface IncidentArchive {
  /**
   * Stores `entries` at positions `fromPosition`, `fromPosition + 1`, …; positions already stored keep
   * their first copy. Returns how many rows were new.
   */
  archive(
    incidentKey: string,
    kind: ArchiveKind,
    fromPosition: number,
    entries: readonly object[],
  ): Promise<number>;
  /** Archived items of an incident, by kind then position (one kind when given). */
  read(incidentKey: string, kind?: ArchiveKind): Promise<ArchivedItem[]>;
}

function checkKey(incidentKey: unknown): void {
  if (typeof incidentKey !== 'string' || incidentKey === '')
    throw new TypeError('incidentKey must be a non-empty string');
}

function checkKind(kind: unknown): void {
  if (!ARCHIVE_KINDS.includes(kind as ArchiveKind))
    throw new TypeError(`kind must be one of ${ARCHIVE_KINDS.join(', ')} (got ${JSON.stringify(kind)})`);
}

/** The archive on the store's connection. */
export function incidentArchive(sql: ArchiveSql): IncidentArchive {
  return {
    async archive(incidentKey, kind, fromPosition, entries) {
      checkKey(incidentKey);
      checkKind(kind);
      if (!Number.isInteger(fromPosition) || fromPosition < 1)
        throw new TypeError(`fromPosition must be a positive integer (got ${fromPosition})`);
      if (!Array.isArray(entries) || entries.some((e) => typeof e !== 'object' || e === null))
        throw new TypeError('entries must be an array of objects');
      if (entries.length === 0) return 0;
      const { rows } = await sql.query(
        `INSERT INTO incident_archive (incident_key, kind, position, entry)
         SELECT $1, $2, $3::int + e.ord::int - 1, e.value
         FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS e(value, ord)
         ON CONFLICT (incident_key, kind, position) DO NOTHING
         RETURNING position`,
        [incidentKey, kind, fromPosition, JSON.stringify(entries)],
      );
      return rows.length;
    },

    async read(incidentKey, kind) {
      checkKey(incidentKey);
      if (kind !== undefined) checkKind(kind);
      const { rows } = await sql.query(
        `SELECT kind, position, entry, archived_at FROM incident_archive
         WHERE incident_key = $1 AND ($2::text IS NULL OR kind = $2)
         ORDER BY kind DESC, position`,
        [incidentKey, kind ?? null],
      );
      return (rows as Array<Record<string, unknown>>).map((r) => ({
        kind: r.kind as ArchiveKind,
        position: Number(r.position),
        entry: r.entry as Record<string, unknown>,
        archivedAt: new Date(r.archived_at as string | Date).toISOString(),
      }));
    },
  };
}
