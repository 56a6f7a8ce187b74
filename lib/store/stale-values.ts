/**
 * Recently expired values, kept only so that `getWithFiller` can serve a
 * stale value while it refills the key (`allowStale`) or when the refill
 * fails (`allowStaleOnFetchRejection`), as lru-cache does.
 *
 * Why a side map, not the expiry marker: the marker (versioned-store.ts)
 * lives for `deletionDelayMs` for every expired write and carries no bytes,
 * so its memory is one small object per expired key; keeping the value in it
 * would make that grow with the values. Here the stale entries sit in their
 * own LRU, bounded by count ({@link STALE_MAX_KEYS}) and by bytes
 * ({@link STALE_MAX_BYTES}, as {@link entrySize} counts them): an entry larger
 * than the byte bound is not kept, and the least recently expired goes
 * first. Memory is therefore bounded by a constant, whatever the data or the
 * traffic (DESIGN.md invariant 10).
 *
 * An entry goes in when a live write expires (read, purge, or the arrival of
 * a newer write already expired: the newer value is kept). It goes out when
 * the key gets a live value again or a delete applies (a deleted key is
 * never served stale), by LRU pressure, or on `clear`. A stale read does not
 * refresh recency here and never touches the live store, its stats, or
 * replication: stale values are a purely local convenience (invariant 3).
 */
import { LRUCache } from 'lru-cache'
import { NOT_DECODED, entrySize, type Entry } from './entry.js'
import { decodeValue } from './value-codec.js'

/** Most recently expired keys whose values are kept for stale reads. */
export const STALE_MAX_KEYS = 1_000

/** Most bytes ({@link entrySize}) of recently expired values kept for stale reads. */
export const STALE_MAX_BYTES = 8 * 1024 * 1024

/** The bounded map of recently expired entries (see the file comment). */
export class StaleValues {
  private readonly lru: LRUCache<string, Entry>

  constructor(maxKeys = STALE_MAX_KEYS, maxBytes = STALE_MAX_BYTES) {
    // `max` preallocates `maxKeys` slots: small and constant here.
    this.lru = new LRUCache<string, Entry>({ max: maxKeys, maxSize: maxBytes, sizeCalculation: (e) => entrySize(e) })
  }

  /** Keeps the value of `e`, which just expired (replacing an older stale value of its key). */
  keep(e: Entry): void {
    if (e.tombstone || entrySize(e) > this.lru.maxSize) return
    this.lru.set(e.key, e)
  }

  /** Forgets `key`'s stale value (it is live again, or deleted). */
  forget(key: string): void {
    if (this.lru.size !== 0) this.lru.delete(key)
  }

  /** Forgets every stale value for which `drop` is true (a clear applied). */
  forgetWhere(drop: (e: Entry) => boolean): void {
    if (this.lru.size === 0) return
    for (const [key, e] of [...this.lru.entries()]) if (drop(e)) this.lru.delete(key)
  }

  /**
   * The decoded stale value of `key`, or `undefined`. Does not refresh
   * recency. Bytes that will not decode drop the entry.
   */
  get(key: string): unknown {
    const e = this.lru.peek(key)
    if (e === undefined) return undefined
    if (e.value !== NOT_DECODED) return e.value
    try {
      e.value = decodeValue(e.bytes)
    } catch {
      this.lru.delete(key)
      return undefined
    }
    return e.value
  }

  get size(): number {
    return this.lru.size
  }

  /** Sum of {@link entrySize} over the entries kept. */
  get bytes(): number {
    return this.lru.calculatedSize
  }

  clear(): void {
    this.lru.clear()
  }
}
