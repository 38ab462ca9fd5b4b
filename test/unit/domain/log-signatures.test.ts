import { LOG_SIGNATURES, LOG_SIGNATURES_VERSION, matchSignatures } from '../../../src/domain/log-signatures';

describe('log signatures', () => {
  it('has unique ids and weights between 0 and 1', () => {
    const ids = LOG_SIGNATURES.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of LOG_SIGNATURES) expect(s.weight > 0 && s.weight < 1).toBe(true);
  });

  it('is versioned', () => {
    expect(LOG_SIGNATURES_VERSION).toBe(1);
  });

  it.each([
    ['sqlalchemy_queuepool_limit', 'QueuePool limit of size 10 overflow 20 reached, connection timed out'],
    ['postgres_too_many_connections', 'FATAL: sorry, too many clients already'],
    ['postgres_too_many_connections', 'OperationalError: (1040, "Too many connections")'],
    ['out_of_memory', 'kernel: Out of memory: Killed process 1234 (python)'],
    ['schema_mismatch', 'ERROR:  column customers.segment_id does not exist'],
    ['upstream_data_missing', "FileNotFoundError: [Errno 2] No such file or directory: '/data/in.csv'"],
    ['disk_full', 'write failed: ENOSPC'],
  ])('matches %s in %j', (id, line) => {
    expect(matchSignatures(line).map((h) => h.signature.id)).toContain(id);
  });

  it('counts matching lines and keeps the first as a sample', () => {
    const [hit] = matchSignatures('ok\nNo space left on device (1)\nNo space left on device (2)\n');
    expect(hit).toMatchObject({ lines: 2, sample: 'No space left on device (1)' });
  });

  it('matches nothing in a healthy log', () => {
    expect(matchSignatures('INFO - Marking task as SUCCESS. dag_id=customer_etl')).toEqual([]);
  });
});

describe('matchSignatures line attribution', () => {
  it('counts a line only for the strongest signature that matches it', () => {
    const line =
      'sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out';
    expect(matchSignatures(line).map((h) => h.signature.id)).toEqual(['sqlalchemy_queuepool_limit']);
  });
});
