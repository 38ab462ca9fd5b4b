import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppDeps } from '../deps';
import { HttpError } from '../errors';
import { type SignatureFailure, verifySlackSignature } from '../slack/signature';

const REFUSALS: Record<SignatureFailure, string> = {
  missing_headers: 'missing or malformed X-Slack-Request-Timestamp / X-Slack-Signature headers',
  stale_timestamp: 'X-Slack-Request-Timestamp is more than 5 minutes from now',
  bad_signature: 'X-Slack-Signature does not match the request body',
};

function header(req: FastifyRequest, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The raw form body (the scoped parser keeps the bytes; an empty body has none). */
function rawBody(req: FastifyRequest): Buffer {
  return Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
}

/**
 * `POST /slack/interactions` (form field `payload=<json>`) and `POST /slack/commands` (slash command
 * form). Both verify Slack request signing v0 over the raw body bytes before anything else (401 for a
 * missing, forged or stale signature) and answer within Slack's 3 seconds: a click is acknowledged with an
 * empty 200 and handled in the background; a command answers with its ephemeral reply. The form parser is
 * registered in this scope only, so no other route accepts form bodies. Without `deps.slack` (no
 * `SLACK_SIGNING_SECRET`) both answer 404.
 */
export function registerSlackRoutes(app: FastifyInstance, deps: AppDeps): void {
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'buffer' },
      (_req, body, parsed) => parsed(null, body),
    );
    const slack = deps.slack;
    if (!slack) {
      const disabled = (): never => {
        throw new HttpError(
          404,
          'not_found',
          'Slack endpoints are disabled: SLACK_SIGNING_SECRET is not set',
        );
      };
      scope.post('/slack/interactions', disabled);
      scope.post('/slack/commands', disabled);
      done();
      return;
    }

    scope.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
      const check = verifySlackSignature({
        signingSecret: slack.signingSecret,
        timestamp: header(req, 'x-slack-request-timestamp'),
        signature: header(req, 'x-slack-signature'),
        rawBody: rawBody(req),
        nowSec: Math.floor((slack.now?.() ?? Date.now()) / 1000),
      });
      if (check.ok) return;
      req.log.warn({ reason: check.reason }, 'slack request refused');
      await reply.status(401).send({ error: 'unauthorized', message: REFUSALS[check.reason] });
    });

    scope.post('/slack/interactions', async (req, reply) => {
      const payloadText = new URLSearchParams(rawBody(req).toString('utf8')).get('payload');
      if (!payloadText) throw new HttpError(400, 'bad_request', 'missing form field "payload"');
      let payload: unknown;
      try {
        payload = JSON.parse(payloadText);
      } catch {
        throw new HttpError(400, 'bad_request', 'form field "payload" is not valid JSON');
      }
      const retryNum = header(req, 'x-slack-retry-num');
      if (retryNum !== undefined) {
        req.log.info({ retryNum, retryReason: header(req, 'x-slack-retry-reason') }, 'slack retry received');
      }
      // Acknowledge now; the click is handled in the background and answered through response_url.
      slack.handlers.handleInteraction(payload).catch((err: unknown) => {
        req.log.error(
          { error: err instanceof Error ? err.message : String(err) },
          'slack interaction failed',
        );
      });
      return reply.status(200).send();
    });

    scope.post('/slack/commands', async (req, reply) => {
      const form = Object.fromEntries(new URLSearchParams(rawBody(req).toString('utf8')));
      // Slack's periodic certificate check of a command URL: answer 200, nothing else.
      if (form.ssl_check !== undefined) return reply.status(200).send();
      const answer = await slack.handlers.handleSlashCommand(form);
      return reply.status(200).send(answer);
    });
    done();
  });
}
