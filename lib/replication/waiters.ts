/**
 * Callers waiting for a key to get a value (a `getWithFiller` on a node that
 * is not filling: the value arrives by replication or from a local write).
 */

export class ValueWaiters {
  private readonly byKey = new Map<string, Set<(value: unknown) => void>>()

  /** Whether anyone waits for `key` (cheap: checked on every applied write). */
  has(key: string): boolean {
    return this.byKey.size !== 0 && this.byKey.has(key)
  }

  /** Resolves with the value of `key` once {@link wake} is called for it; rejects when `signal` aborts. */
  wait(key: string, signal: AbortSignal): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      let set = this.byKey.get(key)
      if (set === undefined) this.byKey.set(key, (set = new Set()))
      const waiting = set
      const done = (value: unknown): void => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      }
      const onAbort = (): void => {
        waiting.delete(done)
        if (waiting.size === 0 && this.byKey.get(key) === waiting) this.byKey.delete(key)
        reject(signal.reason)
      }
      waiting.add(done)
      signal.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Resolves every waiter of `key` with `value` (nothing happens for `undefined`). */
  wake(key: string, value: unknown): void {
    const set = this.byKey.get(key)
    if (set === undefined || value === undefined) return
    this.byKey.delete(key)
    for (const done of set) done(value)
  }

  /** Keys waited for (bounded by the callers' own fills). */
  get size(): number {
    return this.byKey.size
  }

  clear(): void {
    this.byKey.clear()
  }
}
