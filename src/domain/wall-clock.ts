/**
 * Wall-clock time in IANA time zones, computed with `Intl` only (pure and deterministic, so workflow-safe).
 * Local dates are counted in epoch days (days since 1970-01-01) and local times in minutes since midnight,
 * which keeps calendar arithmetic plain integer arithmetic.
 */

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;

/** A local date and time in some zone. `weekday` is 0 for Monday … 6 for Sunday. */
export interface WallClock {
  epochDay: number;
  minuteOfDay: number;
  weekday: number;
}

const IANA_NAME = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/;
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatter(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f === undefined) {
    try {
      f = IANA_NAME.test(zone)
        ? new Intl.DateTimeFormat('en-US', {
            timeZone: zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
          })
        : null;
    } catch {
      f = null;
    }
    formatters.set(zone, f);
  }
  return f;
}

/** True for an IANA time zone name this runtime knows (`"Europe/Berlin"`, `"UTC"`); false for offsets. */
export function isTimeZone(zone: string): boolean {
  return formatter(zone) !== null;
}

function zoneFormatter(zone: string): Intl.DateTimeFormat {
  const f = formatter(zone);
  if (!f) throw new Error(`unknown time zone "${zone}"`);
  return f;
}

/** The zone's offset from UTC in minutes at an instant (e.g. 540 for Asia/Seoul). */
export function offsetMinutes(zone: string, atMs: number): number {
  const parts: Record<string, number> = {};
  for (const p of zoneFormatter(zone).formatToParts(atMs)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    parts.year ?? 1970,
    (parts.month ?? 1) - 1,
    parts.day ?? 1,
    parts.hour ?? 0,
    parts.minute ?? 0,
    parts.second ?? 0,
  );
  const whole = Math.floor(atMs / 1000) * 1000;
  return Math.round((wall - whole) / MINUTE_MS);
}

/** Weekday (0 = Monday) of an epoch day; 1970-01-01 was a Thursday. */
export function weekdayOf(epochDay: number): number {
  return (((epochDay + 3) % 7) + 7) % 7;
}

/** The local date and time at an instant in a zone. */
export function toWallClock(atMs: number, zone: string): WallClock {
  const localMs = atMs + offsetMinutes(zone, atMs) * MINUTE_MS;
  const epochDay = Math.floor(localMs / DAY_MS);
  const minuteOfDay = Math.floor((localMs - epochDay * DAY_MS) / MINUTE_MS);
  return { epochDay, minuteOfDay, weekday: weekdayOf(epochDay) };
}

/**
 * The instant of a local date and time in a zone. A local time that does not exist (skipped by a
 * spring-forward transition) is read with the offset in force before the transition, so it lands as far
 * after the transition as it was meant to be after the last valid time (02:30 becomes 03:30 when 02:00
 * jumps to 03:00). A local time that occurs twice (fall back) means its first occurrence. This is the
 * "compatible" disambiguation of RFC 5545 and the JavaScript Temporal proposal.
 */
export function fromWallClock(epochDay: number, minuteOfDay: number, zone: string): number {
  const wall = epochDay * DAY_MS + minuteOfDay * MINUTE_MS;
  const before = offsetMinutes(zone, wall - DAY_MS);
  const after = offsetMinutes(zone, wall + DAY_MS);
  const candidates = [before, after]
    .map((offset) => wall - offset * MINUTE_MS)
    .filter((t) => wall - offsetMinutes(zone, t) * MINUTE_MS === t);
  if (candidates.length === 0) return wall - before * MINUTE_MS;
  return Math.min(...candidates);
}

/** Epoch day of a `YYYY-MM-DD` date. */
export function epochDayOf(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return Math.floor(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) / DAY_MS);
}

/** Minutes since midnight of an `HH:MM` time (`"24:00"` is 1440). */
export function minuteOf(time: string): number {
  const [h, m] = time.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}
