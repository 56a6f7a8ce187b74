/**
 * The node-local replica: a last-writer-wins map of versioned entries.
 *
 * The structures, keyed by cache key or origin:
 *
 * - `live`: an `lru-cache` that decides recency and eviction (`maxKeys`, and
 *   `maxBytes` by {@link entrySize}). For a key without a TTL whose value is
 *   decoded, it holds **the value itself**, so a read is one `lru-cache` `get`
 *   and one pointer comparison. Why not the entry: with 100k keys and random
 *   reads, every object dereferenced on a hit is a likely CPU cache miss;
 *   reading `entry.expiresAt` and `entry.value` made a hit about 2× a raw
 *   `lru-cache` get, and even an `instanceof` on the value 1.5×. Other keys
 *   hold the sentinel `IN_ENTRY`, and the read goes on to `entries`: a value
 *   that came from the network and is not decoded yet (decoded on first
 *   read, after which the sentinel is replaced by the value), or one with a
 *   TTL (the expiry check needs `expiresAt`; `now()` is only called for
 *   these, and they cost one more hash lookup per read).
 * - `entries`: the live entries themselves (version, seq, bytes), for
 *   `apply`, `peek` and anti-entropy. Same keys as `live`: both change
 *   together, and an LRU eviction removes the entry in `live`'s dispose hook.
 * - `tombs`: deleted keys, each kept for `deletionDelayMs` so that an older
 *   write arriving late cannot resurrect the key ({@link Tombstones}).
 * - `origins`: per write origin, the {@link SeqRanges} of sequence numbers
 *   this node has seen (applied, or found superseded), whether it can vouch
 *   for them (`lossy`), and how many entries it holds from the origin
 *   ({@link OriginIndex}: coverage and retirement). It recognises duplicate
 *   datagrams, and it is the digest anti-entropy compares
 *   ({@link entriesMissingFrom}).
 * - `expiry`: when keys with a TTL expire ({@link ExpiryQueue}), so that
 *   purging costs O(due), at any write rate.
 *
 * `maxKeys` bounds the LRU through lru-cache's `maxSize` (each entry counts
 * 1, or its bytes when `maxBytes` is set, and the key count is enforced by
 * popping the least recent), never through `max`: lru-cache preallocates
 * arrays of `max` slots, so `maxKeys: 1e8` would cost gigabytes up front.
 *
 * {@link VersionedStore.apply}, step by step, for an entry from `origin` with
 * sequence number `seq`:
 *
 * 1. `(origin, seq)` already seen → `'duplicate'`, nothing changes. This check
 *    comes first so that a replayed datagram for a key this node evicted or
 *    expired cannot bring the old value back.
 * 2. Mark `(origin, seq)` seen (from here on, whatever the outcome).
 * 3. Version not greater than the live entry's, or than the tombstone's →
 *    `'stale'`.
 * 4. A tombstone → the live entry (if any) is removed and the tombstone kept
 *    until `nowMs + deletionDelayMs`. A delete of a key never seen here is
 *    kept just the same: it must still beat older writes that arrive later.
 * 5. Already expired at `nowMs` → `'expired'`: not stored, and the live entry
 *    it supersedes is removed (the key is gone everywhere else too).
 * 6. Otherwise the entry replaces the live one (and any older tombstone) and
 *    becomes the most recently used key.
 *
 * Local decisions stay local (invariant 3): LRU eviction and TTL expiry remove
 * live entries, count them in {@link VersionedStore.stats} and report them to
 * `onEvict`, and never create tombstones. Their sequence numbers stay seen
 * (no peer re-sends them), and an eviction marks the origin lossy (no peer
 * adopts this node's coverage of it: invariant 9).
 *
 * Ownership: `apply` keeps the entry object it is given (no copy, it is the
 * hot path). Callers must not change it afterwards; the store itself only
 * ever fills in `value` on first read.
 */
import { LRUCache } from 'lru-cache'
import { NOT_DECODED, entrySize, type Entry } from './entry.js'
import { ExpiryQueue } from './expiry-queue.js'
import { OriginIndex, type OriginRecord } from './origin-index.js'
import type { SeqRanges, SeqRange } from './seq-ranges.js'
import { Tombstones } from './tombstones.js'
import { decodeValue } from './value-codec.js'
import { compareVersions } from './version.js'

export { ENTRY_OVERHEAD_BYTES, NOT_DECODED, entrySize, type Entry } from './entry.js'
export { decodeValue, encodeValue, isValueBytes, packValue } from './value-codec.js'
export type { Version } from './version.js'
export type { OriginRecord } from './origin-index.js'

/** Outcome of {@link VersionedStore.apply}. */
export type ApplyResult = 'applied' | 'stale' | 'duplicate' | 'expired'

/** Why a live entry left the store by a local decision. */
export type EvictReason = 'capacity' | 'expired'

/** Settings for {@link VersionedStore}. */
export interface VersionedStoreInit {
  /** Most live keys held; the least recently used goes first. */
  maxKeys: number
  /**
   * Most bytes of live entries held, as computed by {@link entrySize};
   * 0 or absent means unbounded (only `maxKeys` applies). An entry larger
   * than this on its own is accepted as a version but not stored (counted
   * as an eviction).
   * @default 0
   */
  maxBytes?: number
  /**
   * How long a tombstone is kept after it is applied. It must outlast the
   * time an older write can still be in flight (gossip retransmissions,
   * anti-entropy rounds); longer costs memory per deleted key.
   */
  deletionDelayMs: number
  /**
   * Called after a live entry is removed by LRU eviction (`'capacity'`) or
   * TTL expiry (`'expired'`). Never for replicated deletes or overwrites.
   */
  onEvict?: (key: string, reason: EvictReason) => void
}

/** Counters since construction. */
export interface StoreStats {
  /** Live entries removed to respect `maxKeys` / `maxBytes`. */
  evictions: number
  /** Live entries dropped as expired (on read, purge or arrival). */
  expirations: number
  /** `apply` calls that changed the state. */
  applied: number
  /** `apply` calls that lost to a newer version. */
  stale: number
  /** `apply` calls whose `(origin, seq)` was already seen. */
  duplicates: number
  /** Entries removed because their bytes would not decode. */
  decodeErrors: number
  /** Full scans made by {@link VersionedStore.entriesMissingFrom}. */
  missingScans: number
  /** Origin records retired ({@link VersionedStore.retireOrigins}). */
  retiredOrigins: number
}

/** Most items one {@link VersionedStore.purge} call reclaims by default (the caller calls again when it hit it). */
export const PURGE_BATCH = 50_000

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

/** What `live` holds: a value (possibly `null`) or {@link IN_ENTRY}. */
type Held = NonNullable<unknown>

/** See the file comment. */
export class VersionedStore {
  /** Counters since construction (read-only for callers). */
  readonly stats: StoreStats = {
    evictions: 0,
    expirations: 0,
    applied: 0,
    stale: 0,
    duplicates: 0,
    decodeErrors: 0,
    missingScans: 0,
    retiredOrigins: 0
  }

  /**
   * Key → decoded value, or {@link IN_ENTRY}. Same keys as `entries`. Typed
   * `{}` for lru-cache, but `null` is stored too: lru-cache only treats
   * `undefined` specially (never stored here).
   */
  private readonly live: LRUCache<string, Held>
  /** Key → live entry. Same keys as `live`. */
  private readonly entries = new Map<string, Entry>()
  /** Never holds a key that is also in `entries`. */
  private readonly tombs: Tombstones
  private readonly origins = new OriginIndex()
  /** Entries of `tombs` that are expiry markers (`expiresAt !== 0`), not deletes. */
  private markers = 0
  /** Live entries with `expiresAt !== 0`, by key; `expiry` holds when they expire. */
  private ttlCount = 0
  private readonly expiry = new ExpiryQueue((key, at) => this.entries.get(key)?.expiresAt === at, () => this.ttlCount)
  private readonly maxKeys: number
  /** Keys evicted during the current operation; reported when it is done. */
  private readonly evicted: string[] = []
  /** Sum of {@link entrySize} over `entries`. */
  private liveBytes = 0
  private readonly maxBytes: number
  private readonly onEvict: ((key: string, reason: EvictReason) => void) | undefined

  /** Throws `RangeError` naming the option for a bad setting. */
  constructor(init: VersionedStoreInit) {
    const { maxKeys, maxBytes = 0, deletionDelayMs } = init
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`)
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`)
    if (!Number.isFinite(deletionDelayMs) || deletionDelayMs < 0) {
      throw new RangeError(`deletionDelayMs must be a finite number >= 0, got ${deletionDelayMs}`)
    }
    this.maxBytes = maxBytes
    this.maxKeys = maxKeys
    this.tombs = new Tombstones(deletionDelayMs)
    this.onEvict = init.onEvict
    // `maxSize`, never `max` (preallocates; see the file comment). `store`
    // puts the entry in `entries` before it sets `live`.
    this.live = new LRUCache<string, Held>({
      ...(maxBytes > 0
        ? { maxSize: maxBytes, sizeCalculation: (_v: unknown, key: string) => entrySize(this.entries.get(key)!) }
        : { maxSize: maxKeys, sizeCalculation: () => 1 }),
      dispose: (_v, key, reason) => {
        if (reason === 'evict') this.evictedByLru(key)
      }
    })
  }

  /**
   * **Hot path.** The decoded value for `key`, or `undefined` when it is
   * missing, deleted or expired at `now()`. An expired entry is removed
   * locally (never gossiped). Refreshes the key's recency. `now` is only
   * called for keys that have a TTL.
   */
  get(key: string, now: () => number): unknown {
    const v = this.live.get(key)
    return v === IN_ENTRY ? this.open(key, now) : v
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    const e = this.entries.get(key)
    if (e === undefined) return false
    if (e.expiresAt !== 0) {
      const t = now()
      if (t >= e.expiresAt) {
        this.expireLive(key, e, t)
        return false
      }
    }
    return true
  }

  /**
   * Merges an entry, a local write or a replicated one, by last writer wins.
   * See the file comment for the steps. Takes ownership of `entry`.
   * Throws `RangeError` if `entry.seq` is not a positive integer.
   */
  apply(entry: Entry, nowMs: number): ApplyResult {
    const origin = entry.version.origin
    if (!this.origins.see(origin, entry.seq, nowMs)) {
      this.stats.duplicates++
      return 'duplicate'
    }
    const key = entry.key
    const current = this.entries.get(key)
    const tomb = this.tombs.get(key)
    if (
      (current !== undefined && compareVersions(entry.version, current.version) <= 0) ||
      (tomb !== undefined && compareVersions(entry.version, tomb.version) <= 0)
    ) {
      this.stats.stale++
      return 'stale'
    }
    if (entry.tombstone) {
      if (current !== undefined) this.dropLive(key, current)
      this.putTomb(entry, nowMs)
      this.stats.applied++
      return 'applied'
    }
    if (entry.expiresAt !== 0 && nowMs >= entry.expiresAt) {
      if (current === undefined) {
        this.stats.expirations++
      } else {
        this.dropLive(key, current)
        this.expired(key)
      }
      this.keepExpired(entry, nowMs)
      return 'expired'
    }
    if (tomb !== undefined) this.tombGone(this.tombs.delete(key)!)
    this.store(key, entry, current, nowMs)
    this.stats.applied++
    return 'applied'
  }

  /**
   * Records `(origin, seq)` as seen without storing its entry (a peer's value
   * this node refuses for its size), and marks the origin lossy: no peer
   * re-sends the write, and none adopts this node's coverage of it.
   */
  refuse(origin: string, seq: number, nowMs: number): void {
    this.origins.see(origin, seq, nowMs)
    this.origins.markLossy(origin, nowMs)
  }

  /** The entry for `key`, live or tombstone, without touching recency or expiry. */
  peek(key: string): Entry | undefined {
    return this.entries.get(key) ?? this.tombs.get(key)
  }

  /**
   * Housekeeping: drops tombstones whose delay has passed and live entries
   * expired at `nowMs`, earliest first, at most `budget` in all. Both are
   * O(reclaimed): nothing is scanned. A caller that gets `budget` back
   * should call again soon (more may be due).
   * @param budget - most items reclaimed per call. @default {@link PURGE_BATCH}
   */
  purge(nowMs: number, budget = PURGE_BATCH): { tombstones: number; expired: number } {
    const tombstones = this.tombs.purge(nowMs, budget, (t) => this.tombGone(t))
    const expired = this.expiry.popDue(nowMs, budget - tombstones, (key) => {
      this.expireLive(key, this.entries.get(key)!, nowMs)
    })
    return { tombstones, expired }
  }

  /**
   * Retires origin records nothing depends on: no entry held, not in
   * `keep` (this process's own origin), no new seq for `idleMs`
   * ({@link OriginIndex}). Returns how many went.
   */
  retireOrigins(nowMs: number, idleMs: number, keep: ReadonlySet<string>): number {
    const n = this.origins.retire(nowMs, idleMs, keep)
    this.stats.retiredOrigins += n
    return n
  }

  /** Per-origin coverage (seen ranges and `lossy`), for anti-entropy digests. A live view: do not modify. */
  coverage(): ReadonlyMap<string, OriginRecord> {
    return this.origins.view()
  }

  /** Origin records held. */
  originCount(): number {
    return this.origins.size
  }

  /** Per-origin seen ranges (a new map over the live ranges: do not modify them). */
  seen(): ReadonlyMap<string, SeqRanges> {
    const out = new Map<string, SeqRanges>()
    for (const [origin, r] of this.origins.view()) out.set(origin, r.ranges)
    return out
  }

  /**
   * Records every sequence number in `ranges` from `origin` as seen. For
   * anti-entropy: after merging a peer's missing entries, adopt its coverage
   * (what it has, or knows to be superseded, we now have or know too).
   * Throws `RangeError` for malformed ranges.
   */
  markSeen(origin: string, ranges: ReadonlyArray<SeqRange>, nowMs = 0): void {
    this.origins.seeRanges(origin, ranges, nowMs)
  }

  /**
   * Live entries and tombstones whose `(origin, seq)` the peer has not seen,
   * as an array (a snapshot: safe to hold across later writes). Origins the
   * peer already covers are skipped; when it covers all of them, the result
   * is empty and no entry is looked at (counted in `stats.missingScans`
   * otherwise). Expired entries not yet purged may be included.
   */
  entriesMissingFrom(peerSeen: ReadonlyMap<string, SeqRanges>): Entry[] {
    // origin → the peer's ranges (undefined: the peer knows nothing from it)
    const behind = new Map<string, SeqRanges | undefined>()
    for (const [origin, { ranges: ours }] of this.origins.view()) {
      const theirs = peerSeen.get(origin)
      if (theirs === undefined ? ours.count() > 0 : theirs.missingFrom(ours)) behind.set(origin, theirs)
    }
    const out: Entry[] = []
    if (behind.size === 0) return out
    this.stats.missingScans++
    const consider = (e: Entry): void => {
      const origin = e.version.origin
      if (!behind.has(origin)) return
      const theirs = behind.get(origin)
      if (theirs === undefined || !theirs.has(e.seq)) out.push(e)
    }
    for (const e of this.entries.values()) consider(e)
    for (const t of this.tombs.entries()) consider(t)
    return out
  }

  /** The sequence number for the next write originated by `origin`: highest seen + 1. */
  nextSeq(origin: string): number {
    return this.origins.nextSeq(origin)
  }

  /** Live entries (possibly including expired ones not yet noticed). */
  size(): number {
    return this.entries.size
  }

  /** Tombstones of deletes held (expiry markers not included). */
  tombstones(): number {
    return this.tombs.size - this.markers
  }

  /** Expiry markers held (see `keepExpired`): expired writes kept for `deletionDelayMs`. */
  expiryMarkers(): number {
    return this.markers
  }

  /** Sum of {@link entrySize} over live entries. */
  bytes(): number {
    return this.liveBytes
  }

  /** Forgets everything: live entries, tombstones and seen ranges (stats are kept). */
  clear(): void {
    this.live.clear()
    this.entries.clear()
    this.tombs.clear()
    this.markers = 0
    this.origins.clear()
    this.expiry.clear()
    this.ttlCount = 0
    this.evicted.length = 0
    this.liveBytes = 0
  }

  /** Makes `entry` the live entry for `key`, over `current` (the previous one, if any). */
  private store(key: string, entry: Entry, current: Entry | undefined, nowMs: number): void {
    const size = entrySize(entry)
    const origin = entry.version.origin
    if (this.maxBytes !== 0 && size > this.maxBytes) {
      // lru-cache would refuse it: evicted on arrival
      if (current !== undefined) this.dropLive(key, current)
      this.origins.markLossy(origin, nowMs)
      this.stats.evictions++
      this.onEvict?.(key, 'capacity')
      return
    }
    if (current !== undefined) {
      this.origins.release(current.version.origin)
      if (current.expiresAt !== 0) this.ttlCount--
    }
    this.origins.hold(origin, nowMs)
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
  private dropLive(key: string, e: Entry): void {
    this.live.delete(key)
    this.forget(key, e, false)
  }

  /** TTL expiry of the live entry `e` at `nowMs`: removed, counted, reported, and kept as an expiry marker. */
  private expireLive(key: string, e: Entry, nowMs: number): void {
    this.dropLive(key, e)
    this.keepExpired(e, nowMs)
    this.expired(key)
  }

  /**
   * An expired write still supersedes every older write of its key: kept as
   * a local marker among the tombstones for `deletionDelayMs` (the same
   * grace as a delete), so an older value arriving late, or sent by an
   * anti-entropy peer that never saw the newer write, cannot come back; a
   * peer lacking the write receives the marker (as a tombstone of the same
   * version) in anti-entropy. Never gossiped on its own (invariant 3).
   */
  private keepExpired(e: Entry, nowMs: number): void {
    this.putTomb({ key: e.key, bytes: EMPTY, value: undefined, version: e.version, seq: e.seq, expiresAt: e.expiresAt, tombstone: true }, nowMs)
  }

  /** Keeps `t` (a tombstone, or an expiry marker when `expiresAt !== 0`) as its key's, in place of any older one. */
  private putTomb(t: Entry, nowMs: number): void {
    const old = this.tombs.set(t, nowMs)
    if (old !== undefined) this.tombGone(old)
    this.origins.hold(t.version.origin, nowMs)
    if (t.expiresAt !== 0) this.markers++
  }

  /** Accounting for a tombstone or marker that left `tombs`. */
  private tombGone(t: Entry): void {
    this.origins.release(t.version.origin)
    if (t.expiresAt !== 0) this.markers--
  }

  /** Removes `e` from `entries` and its accounting (`lossy`: by a local decision). */
  private forget(key: string, e: Entry, lossy: boolean): void {
    this.entries.delete(key)
    this.liveBytes -= entrySize(e)
    if (e.expiresAt !== 0) this.ttlCount--
    this.origins.release(e.version.origin, lossy)
  }

  /** `live`'s dispose hook for an LRU eviction: the entry goes too. */
  private evictedByLru(key: string): void {
    this.forget(key, this.entries.get(key)!, true)
    this.stats.evictions++
    this.evicted.push(key)
  }

  /** Calls `onEvict` for the keys evicted by the operation that just finished. */
  private reportEvicted(): void {
    const keys = this.evicted.splice(0)
    if (this.onEvict === undefined) return
    for (const key of keys) this.onEvict(key, 'capacity')
  }

  private expired(key: string): void {
    this.stats.expirations++
    this.onEvict?.(key, 'expired')
  }

  /**
   * The slow half of {@link get}, for a key marked {@link IN_ENTRY}: checks
   * the TTL, decodes on first read, and for a key without a TTL replaces the
   * mark by the value so later reads take the fast path. Bytes that will
   * not decode drop the entry (counted in `stats.decodeErrors`).
   */
  private open(key: string, now: () => number): unknown {
    const e = this.entries.get(key)!
    if (e.expiresAt !== 0) {
      const t = now()
      if (t >= e.expiresAt) {
        this.expireLive(key, e, t)
        return undefined
      }
    }
    let v = e.value
    if (v !== NOT_DECODED) return v
    try {
      v = decodeValue(e.bytes)
    } catch {
      this.stats.decodeErrors++
      this.dropLive(key, e)
      return undefined
    }
    e.value = v
    if (e.expiresAt === 0 && v !== undefined) this.live.set(key, v as Held) // same key, same size: no eviction
    return v
  }
}

const EMPTY = Buffer.alloc(0)
