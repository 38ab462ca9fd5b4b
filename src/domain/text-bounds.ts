/**
 * Byte-bounded text for workflow state and signal payloads (pure, workflow-safe: no TextEncoder, no Buffer).
 * Sizes are UTF-8 bytes, the unit of Temporal's payload limits.
 */
import { fingerprintOf } from './generic-alert';

/** UTF-8 length of a string in bytes. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 1;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** The longest prefix of `text` that fits in `maxBytes` UTF-8 bytes, never splitting a character. */
export function utf8Prefix(text: string, maxBytes: number): string {
  let bytes = 0;
  let i = 0;
  while (i < text.length) {
    const code = text.charCodeAt(i);
    let width = 1;
    let units = 1;
    if (code >= 0x80 && code < 0x800) width = 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        width = 4;
        units = 2;
      } else width = 3;
    } else if (code >= 0x800) width = 3;
    if (bytes + width > maxBytes) break;
    bytes += width;
    i += units;
  }
  return text.slice(0, i);
}

/** The visible marker appended to a clipped value: `…[truncated 12345 bytes]`. */
export function truncationMarker(removedBytes: number): string {
  return `…[truncated ${removedBytes} bytes]`;
}

/** True when a value carries the marker {@link clipText} appends. */
export function isClipped(text: string): boolean {
  return /…\[truncated \d+ bytes\]$/.test(text);
}

/**
 * `text` when it fits in `maxBytes`; otherwise a prefix followed by {@link truncationMarker}, the whole at
 * most `maxBytes` bytes (when `maxBytes` is too small for the marker, a bare prefix).
 */
export function clipText(text: string, maxBytes: number): string {
  const size = utf8Bytes(text);
  if (size <= maxBytes) return text;
  // The marker's own length depends on the number it shows: reserve for the widest possible count.
  const reserve = utf8Bytes(truncationMarker(size));
  if (maxBytes < reserve * 2) return utf8Prefix(text, maxBytes);
  const kept = utf8Prefix(text, maxBytes - reserve);
  return `${kept}${truncationMarker(size - utf8Bytes(kept))}`;
}

/**
 * An identifier that fits in `maxBytes`: itself when short enough, else `h:` and a 64-bit hash of it, so
 * the same long identifier always maps to the same short one (identity and deduplication survive).
 */
export function boundedId(id: string, maxBytes: number): string {
  return utf8Bytes(id) <= maxBytes ? id : `h:${fingerprintOf(id)}`;
}
