/**
 * A fill that may answer with a stale value, as lru-cache's `fetch` does
 * with `allowStale` and `allowStaleOnFetchRejection`:
 *
 * - `allowStale`: when the node still keeps the key's expired value (the
 *   store's bounded stale map), it is returned at once and the key is
 *   refilled in the background, without the caller's signal (the refill
 *   outlives the caller; its error is dropped, and counted in the filler's
 *   stats). Every such call until the refill lands joins the same flight
 *   and gets the stale value.
 * - `allowStaleOnFetchRejection`: the caller waits for the fill; if it fails
 *   (the filler's error, a `FillError`, a `FillTimeoutError`) and a stale
 *   value is kept, that value is returned instead. The caller's own abort
 *   (`FillAbortedError`) and `ClosedError` still reject.
 */
import { ClosedError, FillAbortedError } from '../errors.js'
import type { FillFn, FillOptions } from './filler.js'

/** Per-call options of {@link fillOrStale}. */
export interface StaleFillOptions extends FillOptions {
  allowStale?: boolean
  allowStaleOnFetchRejection?: boolean
}

/** What {@link fillOrStale} needs. */
export interface StaleFillParts<V> {
  /** The shared fill (`Filler.fill`). */
  fill(key: string, fn: FillFn<V>, opts: FillOptions): Promise<V>
  /** The kept expired value of `key`, or `undefined`. */
  staleValue(key: string): V | undefined
  /** A stale value was served. */
  onStaleHit(): void
}

/** Fills `key` on a miss, answering with its stale value as the options allow (see the file comment). */
export async function fillOrStale<V>(p: StaleFillParts<V>, key: string, fn: FillFn<V>, options: StaleFillOptions): Promise<V> {
  const { allowStale, allowStaleOnFetchRejection, signal: _callers, ...refill } = options
  if (allowStale === true) {
    const stale = p.staleValue(key)
    if (stale !== undefined) {
      p.fill(key, fn, refill).catch(() => {})
      p.onStaleHit()
      return stale
    }
  }
  try {
    return await p.fill(key, fn, options)
  } catch (err) {
    if (allowStaleOnFetchRejection !== true || err instanceof FillAbortedError || err instanceof ClosedError) throw err
    const stale = p.staleValue(key)
    if (stale === undefined) throw err
    p.onStaleHit()
    return stale
  }
}
