import {
  epochDayOf,
  fromWallClock,
  isTimeZone,
  offsetMinutes,
  toWallClock,
} from '../../../src/domain/wall-clock';

const iso = (t: number): string => new Date(t).toISOString();

describe('fromWallClock', () => {
  it.each([
    ['an ordinary local time', 'Europe/Berlin', '2026-03-28', 540, '2026-03-28T08:00:00.000Z'],
    [
      'a skipped time moves forward by the gap',
      'Europe/Berlin',
      '2026-03-29',
      150,
      '2026-03-29T01:30:00.000Z',
    ],
    [
      'the start of the gap is the transition',
      'Europe/Berlin',
      '2026-03-29',
      120,
      '2026-03-29T01:00:00.000Z',
    ],
    [
      'a repeated time is its first occurrence',
      'Europe/Berlin',
      '2026-10-25',
      150,
      '2026-10-25T00:30:00.000Z',
    ],
    [
      'the first time after the repeated hour',
      'Europe/Berlin',
      '2026-10-25',
      180,
      '2026-10-25T02:00:00.000Z',
    ],
    ['a New York skipped time', 'America/New_York', '2026-03-08', 150, '2026-03-08T07:30:00.000Z'],
    ['a New York repeated time', 'America/New_York', '2026-11-01', 90, '2026-11-01T05:30:00.000Z'],
    ['a zone without daylight saving time', 'Asia/Seoul', '2026-01-05', 540, '2026-01-05T00:00:00.000Z'],
  ])('%s', (_title, zone, date, minute, expected) => {
    expect(iso(fromWallClock(epochDayOf(date), minute, zone))).toBe(expected);
  });
});

describe('toWallClock', () => {
  it('reads the local date, time and weekday', () => {
    expect(toWallClock(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin')).toEqual({
      epochDay: epochDayOf('2026-03-29'),
      minuteOfDay: 180,
      weekday: 6,
    });
  });

  it('reads a date before 1970', () => {
    expect(toWallClock(Date.parse('1969-12-31T23:30:00Z'), 'UTC')).toEqual({
      epochDay: -1,
      minuteOfDay: 1410,
      weekday: 2,
    });
  });
});

describe('time zones', () => {
  it.each([
    ['Asia/Seoul', true],
    ['UTC', true],
    ['America/Argentina/Buenos_Aires', true],
    ['Asia/Seol', false],
    ['+09:00', false],
    ['', false],
  ])('%s is a time zone: %s', (zone, expected) => {
    expect(isTimeZone(zone)).toBe(expected);
  });

  it('gives the offset in minutes', () => {
    expect(offsetMinutes('America/New_York', Date.parse('2026-07-01T00:00:00Z'))).toBe(-240);
  });
});
