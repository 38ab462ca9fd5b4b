import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { status as grpcStatus } from '@grpc/grpc-js';

/** Temporal client plus the lazily connected connection behind it. */
export interface TemporalClient {
  client: Client;
  connection: Connection;
  namespace: string;
  /** Runs a call with a deadline, so an unreachable server answers quickly instead of hanging. */
  withDeadline<T>(ms: number, fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Creates a client whose connection is established on first use. A server that is down at start-up does
 * not prevent the API from starting (it answers 503 until Temporal is back).
 */
export function createTemporalClient(address: string, namespace: string): TemporalClient {
  const connection = Connection.lazy({ address, connectTimeout: 3_000 });
  const client = new Client({ connection, namespace });
  return {
    client,
    connection,
    namespace,
    withDeadline: (ms, fn) => connection.withDeadline(Date.now() + ms, fn),
    close: () => connection.close(),
  };
}

const UNAVAILABLE_CODES = new Set<number>([
  grpcStatus.UNAVAILABLE,
  grpcStatus.DEADLINE_EXCEEDED,
  grpcStatus.CANCELLED,
  grpcStatus.RESOURCE_EXHAUSTED,
]);

/** True when an error means "Temporal cannot be reached right now" (worth a retry by the caller). */
export function isTemporalUnavailable(err: unknown): boolean {
  if (isGrpcServiceError(err)) return UNAVAILABLE_CODES.has(err.code);
  const e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined;
  if (e && typeof e.code === 'number' && UNAVAILABLE_CODES.has(e.code)) return true;
  if (
    e &&
    typeof e.message === 'string' &&
    /connect|ECONNREFUSED|UNAVAILABLE|deadline|Failed to connect/i.test(e.message)
  ) {
    return true;
  }
  return e?.cause !== undefined && e.cause !== err ? isTemporalUnavailable(e.cause) : false;
}

/** Asks the server for its system info: proves it is reachable. */
export async function pingTemporal(temporal: TemporalClient, timeoutMs = 2_000): Promise<boolean> {
  try {
    await temporal.withDeadline(timeoutMs, () => temporal.connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
