/**
 * Counts of things a layer refused or lost, by reason (`'bad-magic'`,
 * `'queue-overflow'`, …). Every layer that drops a packet, a frame or an
 * entry counts it here, and `Bcache.stats().dropped` merges them.
 */

/** Drop counters by reason. */
export class DropCounts {
  /** Live counts; read-only for callers (use {@link DropCounts.snapshot} to keep one). */
  readonly byReason: Record<string, number> = {}

  /** Counts `n` (default 1) drops under `reason`. */
  count(reason: string, n = 1): void {
    this.byReason[reason] = (this.byReason[reason] ?? 0) + n
  }

  /** How many were dropped under `reason`. */
  get(reason: string): number {
    return this.byReason[reason] ?? 0
  }

  /** A copy that later counting does not change. */
  snapshot(): Record<string, number> {
    return { ...this.byReason }
  }
}

/** Adds several reason → count records into one new record. */
export function mergeCounts(...all: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const rec of all) for (const [k, v] of Object.entries(rec)) out[k] = (out[k] ?? 0) + v
  return out
}
