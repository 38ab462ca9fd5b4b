import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPrometheusClient } from '../../../src/adapters/prometheus';
import { UpstreamError } from '../../../src/adapters/upstream-error';
import { ErrorType } from '../../../src/domain/errors';
import { freePort } from '../../helpers/ports';

/**
 * Replies recorded from a real Prometheus 2.42 (`GET /api/v1/query`), served by a tiny node:http server.
 * The real binary is exercised end to end in test/integration/prometheus-adapter.test.ts.
 */
interface Reply {
  status: number;
  body: string;
  headers?: Record<string, string>;
}
const ok = (data: unknown): Reply => ({ status: 200, body: JSON.stringify({ status: 'success', data }) });
const promError = (status: number, errorType: string, error: string): Reply => ({
  status,
  body: JSON.stringify({ status: 'error', errorType, error }),
});

let server: Server;
let url: string;
let reply: Reply;
let seen: URL[];

beforeEach(async () => {
  seen = [];
  reply = ok({ resultType: 'vector', result: [] });
  server = createServer((req, res) => {
    seen.push(new URL(req.url ?? '/', 'http://x'));
    res.writeHead(reply.status, { 'Content-Type': 'application/json', ...reply.headers });
    res.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(
  () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
);

async function failure(p: Promise<unknown>): Promise<UpstreamError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof UpstreamError)) throw new Error(`expected an UpstreamError, got ${String(err)}`);
  return err;
}

describe('createPrometheusClient.query', () => {
  it('sends an instant query with the evaluation time in seconds', async () => {
    reply = ok({
      resultType: 'vector',
      result: [{ metric: { __name__: 'up', job: 'airflow' }, value: [1714564800.5, '1'] }],
    });
    const result = await createPrometheusClient({ baseUrl: `${url}/prom/` }).query('up == 1', 1714564800500);
    expect(result).toEqual({
      resultType: 'vector',
      result: [{ metric: { __name__: 'up', job: 'airflow' }, value: [1714564800.5, '1'] }],
    });
    expect(seen[0]!.pathname).toBe('/prom/api/v1/query');
    expect(Object.fromEntries(seen[0]!.searchParams)).toEqual({ query: 'up == 1', time: '1714564800.500' });
  });

  it('turns a scalar into one unlabelled sample', async () => {
    reply = ok({ resultType: 'scalar', result: [1795609265.81, '1'] });
    expect(await createPrometheusClient({ baseUrl: url }).query('1')).toEqual({
      resultType: 'scalar',
      result: [{ metric: {}, value: [1795609265.81, '1'] }],
    });
  });

  it('keeps the last value of each series of a range vector', async () => {
    reply = ok({
      resultType: 'matrix',
      result: [
        {
          metric: { job: 'a' },
          values: [
            [10, '1'],
            [20, '2'],
          ],
        },
      ],
    });
    expect((await createPrometheusClient({ baseUrl: url }).query('up[1m]')).result).toEqual([
      { metric: { job: 'a' }, value: [20, '2'] },
    ]);
  });
});

describe('createPrometheusClient.holds', () => {
  it.each([
    ['a non-empty vector', ok({ resultType: 'vector', result: [{ metric: {}, value: [1, '0.01'] }] }), true],
    ['an empty vector', ok({ resultType: 'vector', result: [] }), false],
    ['a scalar', ok({ resultType: 'scalar', result: [1, '1'] }), false],
  ])('is %s → %p', async (_name, r, expected) => {
    reply = r;
    expect(await createPrometheusClient({ baseUrl: url }).holds('x')).toBe(expected);
  });
});

describe('createPrometheusClient errors', () => {
  it.each([
    [
      'bad_data is final',
      promError(400, 'bad_data', 'invalid parameter "query": 1:5: parse error: unclosed left parenthesis'),
      ErrorType.Rejected,
      false,
      'prometheus GET /api/v1/query: 400 bad_data: invalid parameter "query": 1:5: parse error: unclosed left parenthesis',
    ],
    [
      'an execution error is final',
      promError(422, 'execution', 'found duplicate series for the match group'),
      ErrorType.Rejected,
      false,
      'prometheus GET /api/v1/query: 422 execution: found duplicate series for the match group',
    ],
    [
      'a query timeout is retryable',
      promError(503, 'timeout', 'query timed out in expression evaluation'),
      ErrorType.Unavailable,
      true,
      'prometheus GET /api/v1/query: 503 timeout: query timed out in expression evaluation',
    ],
    [
      'a proxy 502 without JSON is retryable',
      { status: 502, body: '<html>Bad Gateway</html>' },
      ErrorType.Unavailable,
      true,
      'prometheus GET /api/v1/query: 502 error',
    ],
    [
      'a wrong base URL is final',
      { status: 404, body: '404 page not found' },
      ErrorType.NotFound,
      false,
      'prometheus GET /api/v1/query: 404 error',
    ],
  ])('%s', async (_name, r, type, retryable, message) => {
    reply = r;
    const err = await failure(createPrometheusClient({ baseUrl: url }).query('sum('));
    expect({ type: err.type, retryable: err.retryable, message: err.message }).toEqual({
      type,
      retryable,
      message,
    });
  });

  it('carries Retry-After on 429', async () => {
    reply = { status: 429, body: 'slow down', headers: { 'Retry-After': '12' } };
    const err = await failure(createPrometheusClient({ baseUrl: url }).query('up'));
    expect([err.type, err.retryAfterMs]).toEqual([ErrorType.RateLimited, 12_000]);
  });

  it('reports an unreachable server as retryable', async () => {
    const port = await freePort();
    const err = await failure(createPrometheusClient({ baseUrl: `http://127.0.0.1:${port}` }).query('up'));
    expect([err.type, err.retryable]).toEqual([ErrorType.Unavailable, true]);
  });

  it('rejects a success response without data as malformed', async () => {
    reply = { status: 200, body: JSON.stringify({ status: 'success' }) };
    const err = await failure(createPrometheusClient({ baseUrl: url }).query('up'));
    expect(err.message).toBe(
      'prometheus GET /api/v1/query: unexpected response (no data in a success response)',
    );
  });
});
