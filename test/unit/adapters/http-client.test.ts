import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient, formEncode, HttpFailure, redactSecrets } from '../../../src/adapters/http-client';
import { ErrorType } from '../../../src/domain/errors';
import { startWebhookDouble, type WebhookDouble } from '../../doubles/webhook-double';

let hook: WebhookDouble;
beforeAll(async () => {
  hook = await startWebhookDouble();
});
afterAll(() => hook.close());
beforeEach(() => hook.reset());

const client = createHttpClient({ provider: 'acme', now: () => 1_000_000 });

async function failureOf(promise: Promise<unknown>): Promise<HttpFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof HttpFailure) return err;
    throw err;
  }
  throw new Error('expected an HttpFailure');
}

describe('createHttpClient', () => {
  it('returns status, lower-cased headers, raw body and parsed JSON on 2xx', async () => {
    const res = await client.send({ url: `${hook.url}/in`, operation: 'deliver', json: { a: 1 } });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toBe('{"ok":true}');
    expect(res.json).toEqual({ ok: true });
  });

  it('sends a JSON body with a JSON content type', async () => {
    await client.send({ url: `${hook.url}/in`, operation: 'deliver', json: { a: [1, 2] } });
    expect(hook.requests[0]!.rawBody).toBe('{"a":[1,2]}');
    expect(hook.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('form-encodes fields and leaves out undefined ones', () => {
    expect(formEncode({ To: '+821012345678', From: '+15005550006', Body: 'a b&c', Skip: undefined })).toBe(
      'To=%2B821012345678&From=%2B15005550006&Body=a+b%26c',
    );
  });

  it.each([
    [429, '2', { kind: 'rate_limited', retryAfterMs: 2000 }],
    [503, undefined, { kind: 'retryable', reason: 'server_error' }],
    [401, undefined, { kind: 'final', type: ErrorType.AuthFailed, reason: 'auth' }],
    [404, undefined, { kind: 'final', type: ErrorType.NotFound, reason: 'not_found' }],
    [400, undefined, { kind: 'final', type: ErrorType.Rejected, reason: 'client_error' }],
  ])('classifies HTTP %i as %j', async (status, retryAfter, expected) => {
    hook.failNext({ status, ...(retryAfter ? { retryAfter: Number(retryAfter) } : {}) });
    const failure = await failureOf(client.send({ url: `${hook.url}/in`, operation: 'deliver', json: {} }));
    expect(failure.class).toEqual(expected);
    expect(failure.status).toBe(status);
    expect(failure.provider).toBe('acme');
    expect(failure.message).toBe(`acme deliver: HTTP ${status}`);
  });

  it('names the operation, never the URL, in failure messages', async () => {
    hook.failNext({ status: 500 });
    const failure = await failureOf(
      client.send({ url: `${hook.url}/hooks/T000/s3cr3t?token=s3cr3t`, operation: 'deliver', json: {} }),
    );
    expect(failure.message).not.toContain('s3cr3t');
    expect(failure.message).not.toContain('127.0.0.1');
  });

  it('redacts secrets from the provider detail of a failure', async () => {
    const redacting = createHttpClient({
      provider: 'acme',
      redact: ['k3y'],
      describeError: (res) => ({ detail: res.body, code: 'E1' }),
    });
    hook.failNext({ status: 400 });
    const failure = await failureOf(redacting.send({ url: `${hook.url}/in`, operation: 'op', body: 'k3y' }));
    expect(failure.message).toBe('acme op: HTTP 400: programmed failure');
    expect(failure.code).toBe('E1');
    expect(redactSecrets('key k3y and k3y', ['k3y', ''])).toBe('key *** and ***');
  });

  it('classifies a refused connection as a retryable network failure without the address', async () => {
    const closed = await startWebhookDouble();
    await closed.close();
    const failure = await failureOf(client.send({ url: `${closed.url}/in`, operation: 'deliver', json: {} }));
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'network' });
    expect(failure.status).toBeUndefined();
    expect(failure.message).toBe('acme deliver: network error (ECONNREFUSED)');
  });

  describe('against a server that never answers', () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      server = createServer(() => undefined);
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('classifies a timeout as a retryable network failure', async () => {
      const failure = await failureOf(client.send({ url, operation: 'deliver', json: {}, timeoutMs: 50 }));
      expect(failure.class).toEqual({ kind: 'retryable', reason: 'network' });
      expect(failure.message).toBe('acme deliver: timed out after 50 ms');
    });

    it('rethrows the abort reason when the caller aborts', async () => {
      const controller = new AbortController();
      const reason = new Error('cancelled by caller');
      const pending = client.send({ url, operation: 'deliver', json: {}, signal: controller.signal });
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });
  });
});
