import {
  buildWhere,
  classifyCheckSetError,
  describeTarget,
  quoteIdent,
  redactSecrets,
} from '../../../src/adapters/postgres-checks';
import { RowFilter } from '../../../src/domain/data-quality';

describe('quoteIdent', () => {
  it.each([
    ['customers', '"customers"'],
    ['Odd "x" Name', '"Odd ""x"" Name"'],
    ['a"; DROP TABLE t; --', '"a""; DROP TABLE t; --"'],
  ])('quotes %s as %s', (name, quoted) => {
    expect(quoteIdent(name)).toBe(quoted);
  });
});

describe('buildWhere', () => {
  const scan = Date.parse('2025-01-10T12:00:00Z');

  it('passes every value as a parameter, numbered from the first free one', () => {
    const filters = [
      { column: 'status', op: 'in', value: ['a', "b'--"] },
      { column: 'Kind', op: '!=', value: 'x' },
      { column: 'created_at', op: '>', ago: '1d' },
      { column: 'deleted_at', op: 'is null' },
    ].map((f) => RowFilter.parse(f));
    expect(buildWhere(filters, 2, scan)).toEqual({
      sql: ' WHERE "status" = ANY($2) AND "Kind" <> $3 AND "created_at" > $4::timestamptz AND "deleted_at" IS NULL',
      params: [['a', "b'--"], 'x', '2025-01-09T12:00:00.000Z'],
    });
  });

  it('is empty without filters', () => {
    expect(buildWhere([], 1, scan)).toEqual({ sql: '', params: [] });
  });
});

describe('connection strings in messages', () => {
  it.each([
    ['postgres://reader:s3cret@db.internal:6432/warehouse', 'db.internal:6432/warehouse'],
    ['postgresql://db.internal/warehouse?sslmode=require', 'db.internal:5432/warehouse'],
    ['host=db.internal port=6432 dbname=wh user=reader password=s3cret', 'db.internal:6432/wh'],
    ['nonsense', 'the database'],
  ])('%s is described as %s', (connection, target) => {
    expect(describeTarget(connection)).toBe(target);
  });

  it.each([
    [
      'failed: postgres://reader:s3cret@db/wh',
      'postgres://reader:s3cret@db/wh',
      'failed: [connection string]',
    ],
    ['bad password s3cret for reader', 'postgres://reader:s3cret@db/wh', 'bad password *** for reader'],
    ['bad p%40ss', 'postgres://reader:p%40ss@db/wh', 'bad ***'],
    ['see postgres://other:hunter2@x/y', 'postgres://reader@db/wh', 'see postgres://other:***@x/y'],
    ['got password=s3cret here', 'host=db password=s3cret', 'got password=*** here'],
  ])('redacts %s', (text, connection, redacted) => {
    expect(redactSecrets(text, connection)).toBe(redacted);
  });
});

describe('classifyCheckSetError', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

  it.each([
    [
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.1:5432'),
      'unreachable',
      'cannot connect to db:5432/wh: connect ECONNREFUSED 10.0.0.1:5432',
    ],
    [
      new Error('Connection terminated due to connection timeout'),
      'unreachable',
      'cannot connect to db:5432/wh: Connection terminated due to connection timeout',
    ],
    [
      pgError('28P01', 'password authentication failed for user "reader"'),
      'auth_failed',
      'authentication failed at db:5432/wh: password authentication failed for user "reader"',
    ],
    [
      pgError('3D000', 'database "wh" does not exist'),
      'database_missing',
      'database "wh" does not exist at db:5432/wh',
    ],
    [
      pgError('42P01', 'relation "public.x" does not exist'),
      'table_missing',
      'relation "public.x" does not exist',
    ],
    [
      pgError('42501', 'permission denied for table customers'),
      'permission_denied',
      'permission denied at db:5432/wh: permission denied for table customers',
    ],
    [
      pgError('57014', 'canceling statement due to statement timeout'),
      'timeout',
      'a query ran longer than the statement timeout of 15000ms and was cancelled',
    ],
    [
      new Error('Query read timeout'),
      'timeout',
      'a query ran longer than the statement timeout of 15000ms and was cancelled',
    ],
    [
      pgError('25006', 'cannot execute INSERT in a read-only transaction'),
      'read_only_violation',
      'a write was refused by the read-only transaction: cannot execute INSERT in a read-only transaction',
    ],
    [
      pgError('57P03', 'the database system is starting up'),
      'unreachable',
      'cannot connect to db:5432/wh: the database system is starting up',
    ],
    [
      pgError('42883', 'operator does not exist: integer > timestamp with time zone'),
      'query_failed',
      'query failed at db:5432/wh: operator does not exist: integer > timestamp with time zone',
    ],
  ])('classifies %s', (err, kind, message) => {
    expect(classifyCheckSetError(err, 'db:5432/wh', 15_000)).toEqual({ kind, message });
  });
});
