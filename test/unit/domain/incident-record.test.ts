import {
  formatIncidentNumber,
  incidentKeyOf,
  isIncidentNumber,
  numberingDay,
} from '../../../src/domain/incident-record';

describe('incident numbers', () => {
  it.each([
    ['2026-11-25', 3, 'INC-20261125-003'],
    ['2026-04-25', 1, 'INC-20260425-001'],
    ['2026-04-25', 1234, 'INC-20260425-1234'],
  ])('formats day %s sequence %d as %s', (day, seq, number) => {
    expect(formatIncidentNumber(day, seq)).toBe(number);
    expect(isIncidentNumber(number)).toBe(true);
  });

  it('rejects a sequence below 1', () => {
    expect(() => formatIncidentNumber('2026-11-25', 0)).toThrow('invalid sequence 0');
  });

  it('numbers by the UTC day of the opening time', () => {
    expect(numberingDay('2026-11-26T01:30:00+09:00')).toBe('2026-11-25');
  });
});

describe('incidentKeyOf', () => {
  it('normalises the opening time so equal instants give one key', () => {
    expect(incidentKeyOf('incident:etl:k', '2026-11-25T18:00:00+09:00')).toBe(
      incidentKeyOf('incident:etl:k', '2026-11-25T09:00:00.000Z'),
    );
    expect(incidentKeyOf('incident:etl:k', '2026-11-25T09:00:00Z')).toBe(
      'incident:etl:k@2026-11-25T09:00:00.000Z',
    );
  });
});
