/**
 * Bounded memory of alert deliveries already handed to Temporal, so exact re-deliveries (Alertmanager's
 * group re-sends, HA duplicates) are dropped before they reach a workflow. Least recently seen keys are
 * evicted first. Keys are remembered only after Temporal accepted them, so a retry after a 503 goes through.
 */
export class DeliveryCache {
  private readonly keys = new Map<string, true>();

  constructor(private readonly capacity = 100_000) {}

  has(key: string): boolean {
    if (!this.keys.has(key)) return false;
    this.keys.delete(key);
    this.keys.set(key, true);
    return true;
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.set(key, true);
    if (this.keys.size > this.capacity) {
      const oldest = this.keys.keys().next();
      if (!oldest.done) this.keys.delete(oldest.value);
    }
  }

  get size(): number {
    return this.keys.size;
  }
}
