/**
 * The live half of a store: the entries that hold values, their LRU order,
 * their TTLs and their byte accounting.
 *
 * - `live`: an `lru-cache` that decides recency and eviction (`maxKeys`, and
 *   `maxBytes` by {@link entrySize}). For a key without a TTL whose value is
 *   decoded, it holds **the value itself**, so a read is one `lru-cache` `get`
 *   and one pointer comparison. Why not the entry: with 100k keys and random
 *   reads, every object dereferenced on a hit is a likely CPU cache miss;
 *   reading `entry.expiresAt` and `entry.value` made a hit about 2× a raw
 *   `lru-cache` get, and even an `instanceof` on the value 1.5×. Other keys
 *   hold the sentinel `IN_ENTRY`, and the read goes on to `entries`: a value
 *   not decoded yet (decoded on first read, after which the sentinel is
 *   replaced by the value), or one with a TTL (the expiry check needs
 *   `expiresAt`; `now()` is only called for these, and they cost one more
 *   hash lookup per read).
 * - `entries`: the live entries themselves (version, seq, bytes). Same keys
 *   as `live`: both change together, and an LRU eviction removes the entry
 *   in `live`'s dispose hook.
 * - `expiry`: when keys with a TTL expire ({@link ExpiryQueue}), so that
 *   purging costs O(due), at any write rate.
 *
 * `maxKeys` bounds the LRU through lru-cache's `max` up to
 * {@link PREALLOCATED_MAX_KEYS}, and beyond that through `maxSize` (each
 * entry counts 1, or its bytes when `maxBytes` is set; the key count is then
 * enforced by popping the least recent). Why both: with `max`, lru-cache
 * preallocates arrays of `max` slots (typed arrays for its links), so
 * `maxKeys: 1e8` would cost gigabytes up front; without it, the links are
 * plain arrays and a hit costs about 1.35× instead of 1.0× a raw lru-cache
 * get (measured with benchmarks/cache-local.ts). Up to 2^20 keys the
 * reservation is about 24 MB.
 *
 * Every entry held is counted against its write origin ({@link OriginIndex}
 * `hold`/`release`); one dropped by a local decision (eviction) marks the
 * origin lossy.
 */
import { LRUCache } from 'lru-cache'
import { NOT_DECODED, entrySize, type Entry } from './entry.js'
import { ExpiryQueue } from './expiry-queue.js'
import type { OriginIndex } from './origin-index.js'
import type { EvictReason, StoreStats } from './store-stats.js'
import { decodeValue } from './value-codec.js'

/**
 * What `live` holds for a key whose value cannot be returned as is (not
 * decoded yet, or subject to a TTL): read it from `entries`. Private to this
 * module, so a cached value can never be mistaken for it. An object, not a
 * symbol: V8 compiles `v === IN_ENTRY` against an object to a plain pointer
 * comparison even after it has seen both marks and values there, whereas
 * with a symbol the comparison sometimes loaded the value's type (one more
 * cache miss per read, up to 1.7× a raw get in measurements).
 */
const IN_ENTRY: object = Object.freeze({ inEntry: true })

/** Largest `maxKeys` for which lru-cache's preallocating `max` is used (see the file comment). */
export const PREALLOCATED_MAX_KEYS = 1 << 20

/** What `live` holds: a value (possibly `null`) or {@link IN_ENTRY}. */
type Held = NonNullable<unknown>

export interface LiveEntriesHooks {
  origins: OriginIndex
  stats: StoreStats
  onEvict: ((key: string, reason: EvictReason) => void) | undefined
  /** A live entry expired at `nowMs` (already removed and counted). */
  onExpired: (e: Entry, nowMs: number) => void
}

export class LiveEntries {
  /**
   * Key → decoded value, or {@link IN_ENTRY}. Same keys as `entries`. Typed
   * `{}` for lru-cache, but `null` is stored too: lru-cache only treats
   * `undefined` specially (never stored here).
   */
  private readonly live: LRUCache<string, Held>
  /** Key → live entry. Same keys as `live`. */
  private readonly entries = new Map<string, Entry>()
  /** Live entries with `expiresAt !== 0`; `expiry` holds when they expire. */
  private ttlCount = 0
  private readonly expiry = new ExpiryQueue((key, at) => this.entries.get(key)?.expiresAt === at, () => this.ttlCount)
  /** Keys evicted during the current operation; reported when it is done. */
  private readonly evicted: string[] = []
  /** Sum of {@link entrySize} over `entries`. */
  private liveBytes = 0

  constructor(private readonly h: LiveEntriesHooks, private readonly maxKeys: number, private readonly maxBytes: number) {
    // `max` only up to PREALLOCATED_MAX_KEYS (see the file comment). `put`
    // puts the entry in `entries` before it sets `live`.
    const preallocated = maxKeys <= PREALLOCATED_MAX_KEYS
    const bySize: LRUCache.Options<string, Held, unknown> | undefined = maxBytes > 0
      ? { maxSize: maxBytes, sizeCalculation: (_v: unknown, key: string) => entrySize(this.entries.get(key)!) }
      : preallocated ? undefined : { maxSize: maxKeys, sizeCalculation: () => 1 }
    this.live = new LRUCache<string, Held>({
      ...(preallocated ? { max: maxKeys } : {}),
      ...bySize,
      dispose: (_v, key, reason) => {
        if (reason === 'evict') this.evictedByLru(key)
      }
    } as LRUCache.Options<string, Held, unknown>)
  }

  /** **Hot path.** See `VersionedStore.get`. */
  get(key: string, now: () => number): unknown {
    const v = this.live.get(key)
    return v === IN_ENTRY ? this.open(key, now) : v
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    const e = this.entries.get(key)
    if (e === undefined) return false
    if (this.expiredNow(key, e, now)) return false
    return true
  }

  /**
   * The value of `key` without refreshing its recency: decoded as `get`
   * does, `undefined` when missing or expired at `now()` (an expired entry
   * is expired then, as by `has`).
   */
  peekValue(key: string, now: () => number): unknown {
    const e = this.entries.get(key)
    if (e === undefined) return undefined
    if (this.expiredNow(key, e, now)) return undefined
    return this.decoded(key, e)
  }

  /**
   * The live keys, most recently used first (lru-cache's order), as an
   * array: a snapshot, so the caller may read and write while it walks it.
   * May include keys expired but not yet noticed.
   */
  keysByRecency(): string[] {
    return [...this.live.keys()]
  }

  /** The live entry of `key`, without touching recency or expiry. */
  peek(key: string): Entry | undefined {
    return this.entries.get(key)
  }

  /** Makes `entry` the live entry for `key`, over `current` (the previous one, if any). */
  put(key: string, entry: Entry, current: Entry | undefined, nowMs: number): void {
    const size = entrySize(entry)
    const { origins } = this.h
    if (this.maxBytes !== 0 && size > this.maxBytes) {
      // lru-cache would refuse it: evicted on arrival
      if (current !== undefined) this.drop(key, current)
      origins.markLossy(entry.version.origin, nowMs)
      this.h.stats.evictions++
      this.h.onEvict?.(key, 'capacity')
      return
    }
    if (current !== undefined) {
      origins.release(current.version.origin)
      if (current.expiresAt !== 0) this.ttlCount--
    }
    origins.hold(entry.version.origin, nowMs)
    this.entries.set(key, entry) // first: sizeCalculation reads it
    const v = entry.value
    this.live.set(key, entry.expiresAt === 0 && v !== NOT_DECODED && v !== undefined ? (v as Held) : IN_ENTRY)
    this.liveBytes += current === undefined ? size : size - entrySize(current)
    if (entry.expiresAt !== 0) {
      this.ttlCount++
      this.expiry.push(key, entry.expiresAt)
    }
    // The count bound, when lru-cache's maxSize counts bytes.
    while (this.live.size > this.maxKeys) this.live.pop()
    if (this.evicted.length !== 0) this.reportEvicted()
  }

  /** Removes the live entry `e` for `key` (no callback, no counting). */
  drop(key: string, e: Entry): void {
    this.live.delete(key)
    this.forget(key, e, false)
  }

  /** Expires up to `budget` entries due at `nowMs`, earliest first; returns how many. */
  expireDue(nowMs: number, budget: number): number {
    return this.expiry.popDue(nowMs, budget, (key) => this.expire(key, this.entries.get(key)!, nowMs))
  }

  /** The live entries (possibly including expired ones not yet noticed). */
  values(): IterableIterator<Entry> {
    return this.entries.values()
  }

  get size(): number {
    return this.entries.size
  }

  get bytes(): number {
    return this.liveBytes
  }

  clear(): void {
    this.live.clear()
    this.entries.clear()
    this.expiry.clear()
    this.ttlCount = 0
    this.evicted.length = 0
    this.liveBytes = 0
  }

  /** Whether the live entry `e` has expired at `now()` (then it is expired here and now). `now` is only called for TTL keys. */
  private expiredNow(key: string, e: Entry, now: () => number): boolean {
    if (e.expiresAt === 0) return false
    const t = now()
    if (t < e.expiresAt) return false
    this.expire(key, e, t)
    return true
  }

  /** TTL expiry of `e` at `nowMs`: removed, counted, reported, handed to `onExpired`. */
  private expire(key: string, e: Entry, nowMs: number): void {
    this.drop(key, e)
    this.h.onExpired(e, nowMs)
    this.h.stats.expirations++
    this.h.onEvict?.(key, 'expired')
  }

  /** Removes `e` from `entries` and its accounting (`lossy`: by a local decision). */
  private forget(key: string, e: Entry, lossy: boolean): void {
    this.entries.delete(key)
    this.liveBytes -= entrySize(e)
    if (e.expiresAt !== 0) this.ttlCount--
    this.h.origins.release(e.version.origin, lossy)
  }

  /** `live`'s dispose hook for an LRU eviction: the entry goes too. */
  private evictedByLru(key: string): void {
    this.forget(key, this.entries.get(key)!, true)
    this.h.stats.evictions++
    this.evicted.push(key)
  }

  /** Calls `onEvict` for the keys evicted by the operation that just finished. */
  private reportEvicted(): void {
    const keys = this.evicted.splice(0)
    const onEvict = this.h.onEvict
    if (onEvict === undefined) return
    for (const key of keys) onEvict(key, 'capacity')
  }

  /**
   * The slow half of {@link get}, for a key marked {@link IN_ENTRY}: checks
   * the TTL, decodes on first read, and for a key without a TTL replaces the
   * mark by the value so later reads take the fast path (also when a
   * {@link peekValue} decoded it first).
   */
  private open(key: string, now: () => number): unknown {
    const e = this.entries.get(key)!
    if (this.expiredNow(key, e, now)) return undefined
    const v = this.decoded(key, e)
    if (e.expiresAt === 0 && v !== undefined) this.live.set(key, v as Held) // same key, same size: no eviction
    return v
  }

  /**
   * The value of `e`, decoded on first need and kept in `e.value`. Bytes
   * that will not decode drop the entry (counted in `stats.decodeErrors`).
   */
  private decoded(key: string, e: Entry): unknown {
    if (e.value !== NOT_DECODED) return e.value
    let v: unknown
    try {
      v = decodeValue(e.bytes)
    } catch {
      this.h.stats.decodeErrors++
      this.drop(key, e)
      return undefined
    }
    e.value = v
    return v
  }
}
