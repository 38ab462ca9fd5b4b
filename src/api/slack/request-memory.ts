/**
 * Bounded, in-process memory of Slack request ids already taken on (`slack:<user>:<action_ts>`), so a
 * Slack retry of the same payload is acknowledged without acting again. The workflow dedupes request ids
 * too; this only saves the signal and the second reply. Oldest ids are evicted first.
 */
export class RequestMemory {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity = 5_000) {}

  /** True the first time an id is seen (the caller acts), false for a repeat. */
  claim(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next();
      if (!oldest.done) this.ids.delete(oldest.value);
    }
    return true;
  }

  /** Forgets an id whose action never reached the incident, so a retry may try again. */
  release(id: string): void {
    this.ids.delete(id);
  }

  get size(): number {
    return this.ids.size;
  }
}
