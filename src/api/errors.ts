import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';

/** An error the API answers with its own status and a message safe to show the caller. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Formats zod issues as `path: message; …` naming each bad field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .slice(0, 20)
    .map((i) => `${i.path.length > 0 ? i.path.map(String).join('.') : '(body)'}: ${i.message}`)
    .join('; ');
}

/** Parses a value with a schema or throws a 400 naming the problems. */
export function parseOr400<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what = 'body',
  onInvalid?: () => void,
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    onInvalid?.();
    throw new HttpError(400, 'bad_request', `invalid ${what}: ${describeZodError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * One error handler for the whole API: messages are returned only for 4xx (they name the problem); 5xx
 * answers are generic and the details go to the log.
 */
export function errorHandler(
  err: FastifyError | HttpError | Error,
  req: FastifyRequest,
  reply: FastifyReply,
  bodyLimit?: number,
): void {
  if (err instanceof HttpError) {
    if (err.statusCode >= 500) req.log.warn({ err: err.message }, 'request failed');
    void reply.status(err.statusCode).send({ error: err.code, message: err.message });
    return;
  }
  const fe = err as FastifyError;
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status === 413) {
    const limit = bodyLimit === undefined ? 'the limit' : `the limit of ${bodyLimit} bytes`;
    void reply.status(413).send({ error: 'payload_too_large', message: `request body exceeds ${limit}` });
    return;
  }
  if (status >= 400 && status < 500) {
    const message =
      fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || err instanceof SyntaxError
        ? `body is not valid JSON: ${err.message}`
        : err.message;
    void reply.status(status).send({ error: 'bad_request', message });
    return;
  }
  req.log.error({ err }, 'unhandled error');
  void reply.status(500).send({ error: 'internal', message: 'internal error' });
}
