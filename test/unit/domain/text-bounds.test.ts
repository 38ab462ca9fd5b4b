import {
  boundedId,
  clipText,
  isClipped,
  truncationMarker,
  utf8Bytes,
  utf8Prefix,
} from '../../../src/domain/text-bounds';

describe('utf8Bytes', () => {
  it.each([
    ['', 0],
    ['abc', 3],
    ['é', 2],
    ['€', 3],
    ['😀', 4],
    ['a😀é', 7],
  ])('%j is %i bytes (as Buffer counts them)', (text, bytes) => {
    expect(utf8Bytes(text)).toBe(bytes);
    expect(utf8Bytes(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });
});

describe('utf8Prefix', () => {
  it.each([
    ['abcdef', 3, 'abc'],
    ['é€😀', 1, ''],
    ['é€😀', 2, 'é'],
    ['é€😀', 5, 'é€'],
    ['é€😀', 8, 'é€'],
    ['é€😀', 9, 'é€😀'],
  ])('%j within %i bytes is %j (never half a character)', (text, max, prefix) => {
    expect(utf8Prefix(text, max)).toBe(prefix);
  });
});

describe('clipText', () => {
  it.each([
    { name: 'short text unchanged', text: 'hello', max: 100, out: 'hello' },
    { name: 'exactly at the cap unchanged', text: 'x'.repeat(100), max: 100, out: 'x'.repeat(100) },
    {
      name: 'long ASCII cut with the count of removed bytes',
      text: 'x'.repeat(1000),
      max: 100,
      out: `${'x'.repeat(75)}${truncationMarker(925)}`,
    },
    {
      name: 'cap too small for the marker: bare prefix',
      text: 'x'.repeat(1000),
      max: 10,
      out: 'x'.repeat(10),
    },
  ])('$name', ({ text, max, out }) => {
    const clipped = clipText(text, max);
    expect(clipped).toBe(out);
    expect(utf8Bytes(clipped)).toBeLessThanOrEqual(max);
  });

  it('keeps a 900 KB value within the cap, marked, and counts every removed byte', () => {
    const text = 'é'.repeat(450_000); // 900,000 bytes
    const clipped = clipText(text, 1024);
    expect(utf8Bytes(clipped)).toBeLessThanOrEqual(1024);
    expect(isClipped(clipped)).toBe(true);
    const removed = Number(/truncated (\d+) bytes/.exec(clipped)![1]);
    const kept = clipped.slice(0, clipped.indexOf('…['));
    expect(utf8Bytes(kept) + removed).toBe(900_000);
  });

  it('is idempotent', () => {
    const once = clipText('y'.repeat(5000), 200);
    expect(clipText(once, 200)).toBe(once);
  });
});

describe('boundedId', () => {
  it.each([
    ['short', 10, 'short'],
    ['x'.repeat(11), 10, undefined],
  ])('%j within %i bytes', (id, max, expected) => {
    const out = boundedId(id, max);
    if (expected !== undefined) expect(out).toBe(expected);
    else {
      expect(out).toMatch(/^h:[0-9a-f]{16}$/);
      expect(boundedId(id, max)).toBe(out);
      expect(boundedId(`${id}z`, max)).not.toBe(out);
    }
  });
});
