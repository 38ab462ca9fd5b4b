/**
 * Clock and date formatting in an IANA time zone (pure: `Intl` only, no current time). Used by
 * postmortems, diagnosis evidence and reports, where people read times as "09:15".
 */

const hmFormatters = new Map<string, Intl.DateTimeFormat>();
const dateFormatters = new Map<string, Intl.DateTimeFormat>();

function formatter(cache: Map<string, Intl.DateTimeFormat>, timeZone: string, date: boolean) {
  let f = cache.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone,
      ...(date
        ? { year: 'numeric', month: '2-digit', day: '2-digit' }
        : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
    });
    cache.set(timeZone, f);
  }
  return f;
}

function parts(f: Intl.DateTimeFormat, ms: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(ms))) out[p.type] = p.value;
  return out;
}

/** `HH:MM` (24 h) of an instant in a time zone; throws RangeError for an unknown zone. */
export function formatClock(ms: number, timeZone = 'UTC'): string {
  const p = parts(formatter(hmFormatters, timeZone, false), ms);
  return `${p.hour ?? '00'}:${p.minute ?? '00'}`;
}

/** `YYYY-MM-DD` of an instant in a time zone. */
export function formatDate(ms: number, timeZone = 'UTC'): string {
  const p = parts(formatter(dateFormatters, timeZone, true), ms);
  return `${p.year ?? '0000'}-${p.month ?? '00'}-${p.day ?? '00'}`;
}

/** True when `timeZone` is an IANA zone this runtime knows. */
export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatClock(0, timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds of an RFC 3339 time; throws on a malformed one. */
export function toMs(at: string): number {
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new Error(`invalid time "${at}"`);
  return ms;
}
