/**
 * Relative size changes (`increase_by` on replicas or pool slots) made absolute. The workflow reads the
 * live size once, records it with the target computed here, and then only ever sets that target: a retry,
 * a crash after the change or a continue-as-new sets the same size again instead of adding twice.
 */

/** What a step asks for: an absolute size, or an increase over the live size. */
export type SizeChange = { to: number } | { increaseBy: number };

/**
 * The size to set, given the live size read before the change. A negative `previous` means unlimited (an
 * Airflow pool with -1 slots): an increase keeps it unlimited rather than capping it.
 */
export function absoluteTarget(previous: number, change: SizeChange): number {
  if ('to' in change) return change.to;
  if (previous < 0) return previous;
  return previous + change.increaseBy;
}
