import { HttpFailure } from '../../../src/adapters/http-client';
import { createWebhookSender, signWebhookBody } from '../../../src/adapters/webhook';
import { startWebhookDouble, type WebhookDouble } from '../../doubles/webhook-double';

const SECRET = 'whsec-0123456789';
const NOW = Date.UTC(2024, 4, 1, 10, 0, 0);

let hook: WebhookDouble;
beforeAll(async () => {
  hook = await startWebhookDouble({ secret: SECRET });
});
afterAll(() => hook.close());
beforeEach(() => hook.reset());

const sender = createWebhookSender({ now: () => NOW });

describe('createWebhookSender', () => {
  it('posts the JSON payload with idempotency key, timestamp and a valid signature', async () => {
    const result = await sender.send(
      { name: 'ops', url: `${hook.url}/hooks/ops`, secret: SECRET },
      { payload: { event: 'incident.page', level: 2 }, idempotencyKey: 'inc-1/L2/person:alice/webhook' },
    );

    const req = hook.requests[0]!;
    expect(result).toEqual({ status: 200 });
    expect(req.path).toBe('/hooks/ops');
    expect(req.rawBody).toBe('{"event":"incident.page","level":2}');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.idempotencyKey).toBe('inc-1/L2/person:alice/webhook');
    expect(req.timestamp).toBe(String(NOW / 1000));
    expect(req.signature).toBe(signWebhookBody(SECRET, req.rawBody));
    expect(req.signatureValid).toBe(true);
  });

  it('signs with sha256=<hex HMAC-SHA256 of the raw body>', () => {
    // Reference value from: printf '%s' '{"a":1}' | openssl dgst -sha256 -hmac key
    expect(signWebhookBody('key', '{"a":1}')).toBe(
      'sha256=88a67f24bbcdaed0e6c997404bb79a743baf44c6bab2f4c27328e3009d22e342',
    );
  });

  it('sends no signature header without a secret', async () => {
    const open = await startWebhookDouble();
    try {
      await sender.send({ name: 'open', url: `${open.url}/in` }, { payload: {}, idempotencyKey: 'k' });
      expect(open.requests[0]!.signature).toBeUndefined();
      expect(open.requests[0]!.headers['x-incidentflow-signature']).toBeUndefined();
    } finally {
      await open.close();
    }
  });

  it('is rejected by a receiver that checks the signature with another secret', async () => {
    const failure = await sender
      .send(
        { name: 'ops', url: `${hook.url}/in`, secret: 'other-secret' },
        { payload: {}, idempotencyKey: 'k' },
      )
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(HttpFailure);
    expect((failure as HttpFailure).class).toMatchObject({ kind: 'final', reason: 'auth' });
    expect(hook.requests[0]!.signatureValid).toBe(false);
  });

  it('names the webhook, not its secret-bearing URL, in failures', async () => {
    hook.failNext({ status: 503 });
    const failure = (await sender
      .send(
        { name: 'ops', url: `${hook.url}/in?token=url-secret`, secret: SECRET },
        { payload: {}, idempotencyKey: 'k' },
      )
      .catch((err: unknown) => err)) as HttpFailure;

    expect(failure.message).toBe('webhook POST ops: HTTP 503');
    expect(failure.class).toEqual({ kind: 'retryable', reason: 'server_error' });
  });
});
