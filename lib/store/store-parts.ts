/**
 * The parts of a {@link VersionedStore} and the ways to look at them without
 * changing the last-writer-wins state: reads (values, recency, TTLs, stale
 * values), counts, and the coverage anti-entropy compares. The merge rules
 * themselves (`apply`, clears, purge) are in versioned-store.ts, which
 * extends this class; the file comment there describes every part.
 */
import type { Entry } from './entry.js'
import { LiveEntries } from './live-entries.js'
import { Clears } from './clears.js'
import { entriesMissingFrom } from './missing-entries.js'
import { OriginIndex, type OriginRecord } from './origin-index.js'
import { StaleValues } from './stale-values.js'
import type { SeqRanges, SeqRange } from './seq-ranges.js'
import { newStoreStats, type EvictReason, type StoreStats } from './store-stats.js'
import { Tombstones } from './tombstones.js'
import { compareVersions } from './version.js'


/** Settings for `VersionedStore`. */
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
  /** Keep only each origin's highest seq, not its seen ranges (origin-index.ts; partition mode). @default false */
  highestSeqOnly?: boolean
}

/** The parts of a store and its read-only views (see the file comment). */
export class StoreParts {
  /** Counters since construction (read-only for callers). */
  readonly stats: StoreStats = newStoreStats()
  protected readonly origins: OriginIndex
  /** The live entries; the facade reads straight from here on the hot path (one call less per `get`). */
  readonly live: LiveEntries
  /** Never holds a key that is also live. */
  protected readonly tombs: Tombstones
  protected readonly onEvict: ((key: string, reason: EvictReason) => void) | undefined
  /** Recently expired values, for stale reads only; never holds a key that is live or deleted. */
  protected readonly stale = new StaleValues()
  /** Cluster-wide clears held (clears.ts). */
  protected readonly clears: Clears

  /** Throws `RangeError` naming the option for a bad setting. */
  constructor(init: VersionedStoreInit) {
    const { maxKeys, maxBytes = 0, deletionDelayMs } = init
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`)
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`)
    if (!Number.isFinite(deletionDelayMs) || deletionDelayMs < 0) {
      throw new RangeError(`deletionDelayMs must be a finite number >= 0, got ${deletionDelayMs}`)
    }
    this.onEvict = init.onEvict
    this.origins = new OriginIndex(init.highestSeqOnly === true)
    this.tombs = new Tombstones(deletionDelayMs, this.origins)
    this.clears = new Clears(deletionDelayMs, this.origins)
    this.live = new LiveEntries({
      origins: this.origins, stats: this.stats, onEvict: init.onEvict,
      onExpired: (e, nowMs) => this.keepExpired(e, nowMs)
    }, maxKeys, maxBytes)
  }

  /**
   * **Hot path.** The decoded value for `key`, or `undefined` when it is
   * missing, deleted or expired at `now()`. An expired entry is removed
   * locally (never gossiped). Refreshes the key's recency. `now` is only
   * called for keys that have a TTL.
   */
  get(key: string, now: () => number): unknown {
    return this.live.get(key, now)
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    return this.live.has(key, now)
  }

  /** Like {@link get}, but does not refresh the key's recency. */
  peekValue(key: string, now: () => number): unknown {
    return this.live.peekValue(key, now)
  }

  /**
   * The live keys, most recently used first, as a snapshot array (it may
   * include keys expired but not yet noticed: check them with {@link peekValue}
   * or {@link remainingTtl}).
   */
  keysByRecency(): string[] {
    return this.live.keysByRecency()
  }

  /**
   * Ms left before `key` expires, as lru-cache's `getRemainingTTL`:
   * `Infinity` for a live key without a TTL, `0` for a missing, deleted or
   * expired one (never negative). Changes nothing.
   */
  remainingTtl(key: string, nowMs: number): number {
    const at = this.live.expiresAtOf(key)
    if (at === undefined) return 0
    if (at === 0) return Infinity
    return Math.max(0, at - nowMs)
  }

  /**
   * The last value of `key` that expired here, if it is still kept (see
   * stale-values.ts) and the key has not been written or deleted since.
   * For stale reads only.
   */
  staleValue(key: string): unknown {
    return this.stale.get(key)
  }

  /** Recently expired values kept for stale reads. */
  staleCount(): number {
    return this.stale.size
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
    return this.live.peek(key) ?? this.tombs.get(key)
  }

  /** The clear held for exactly `prefix` (`''`: the clear of every key), if any. */
  clearOf(prefix: string): Entry | undefined {
    return this.clears.get(prefix)
  }

  /** The clears held (clears.ts), as entries. */
  clearEntries(): Entry[] {
    return [...this.clears.entries()]
  }

  /** Clears held (clears.ts). */
  clearRecords(): number {
    return this.clears.size
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
   * Live entries, tombstones and clears whose `(origin, seq)` the peer has not seen,
   * as an array (a snapshot: safe to hold across later writes). Origins the
   * peer already covers are skipped; when it covers all of them, the result
   * is empty and no entry is looked at (counted in `stats.missingScans`
   * otherwise). Expired entries not yet purged may be included.
   */
  entriesMissingFrom(peerSeen: ReadonlyMap<string, SeqRanges>): Entry[] {
    return entriesMissingFrom(this.origins.view(), this.live, [this.tombs.entries(), this.clears.entries()], peerSeen, this.stats)
  }

  /**
   * Calls `fn` for every live entry, tombstone and expiry marker held
   * (partition mode's segment fingerprints, replication/segment-sync.ts),
   * without allocating per live entry. A marker is a tombstone with its
   * write's `expiresAt`.
   */
  forEachHeld(fn: (key: string, wall: number, counter: number, origin: string, tombstone: boolean, expiresAt: number) => void): void {
    this.live.forEachVersion((key, wall, counter, origin, expiresAt) => fn(key, wall, counter, origin, false, expiresAt))
    for (const t of this.tombs.entries()) fn(t.key, t.version.wall, t.version.counter, t.version.origin, true, t.expiresAt)
  }

  /** The live entries, tombstones and expiry markers whose key `pick` accepts, as new objects. */
  heldEntries(pick: (key: string) => boolean): Entry[] {
    const out: Entry[] = []
    this.live.collect(pick, out)
    for (const t of this.tombs.entries()) if (pick(t.key)) out.push(t)
    return out
  }

  /**
   * Forgets `key`'s live entry or tombstone if its version is not newer
   * than `version` (any version when undefined; with `olderOnly`, only an
   * older one), leaving nothing behind: no
   * tombstone, no eviction. Partition mode drops what this node holds but
   * does not own, once its owners have it. Returns whether it dropped one.
   */
  dropHeld(key: string, version?: Entry['version'], olderOnly = false): boolean {
    const held = this.live.versionOf(key) ?? this.tombs.get(key)?.version
    if (held === undefined) return false
    if (version !== undefined && compareVersions(held, version) > (olderOnly ? -1 : 0)) return false
    if (!this.live.drop(key)) this.tombs.delete(key)
    return true
  }

  /** The sequence number for the next write originated by `origin`: highest seen + 1. */
  nextSeq(origin: string): number {
    return this.origins.nextSeq(origin)
  }

  /** Live entries (possibly including expired ones not yet noticed). */
  size(): number {
    return this.live.size
  }

  /** Tombstones of deletes held (expiry markers not included). */
  tombstones(): number {
    return this.tombs.size - this.tombs.markers
  }

  /** Expiry markers held (see `keepExpired`): expired writes kept for `deletionDelayMs`. */
  expiryMarkers(): number {
    return this.tombs.markers
  }

  /** Sum of {@link entrySize} over live entries. */
  bytes(): number {
    return this.live.bytes
  }

  /**
   * An expired write still supersedes every older write of its key: kept as
   * a local marker among the tombstones for `deletionDelayMs` (the same
   * grace as a delete), so an older value arriving late, or sent by an
   * anti-entropy peer that never saw the newer write, cannot come back; a
   * peer lacking the write receives the marker (as a tombstone of the same
   * version) in anti-entropy. Never gossiped on its own (invariant 3).
   * Its value goes to the bounded stale map.
   */
  protected keepExpired(e: Entry, nowMs: number): void {
    if (e.seq === 0) { // a local value (VersionedStore.putLocal): no write to remember
      this.stale.keep(e)
      return
    }
    // own bytes: `e` may be a caller's entry whose bytes view a whole frame
    this.stale.keep(e.bytes.byteOffset === 0 && e.bytes.buffer.byteLength === e.bytes.length ? e : { ...e, bytes: Buffer.from(e.bytes) })
    this.tombs.set({ key: e.key, bytes: EMPTY, value: undefined, version: e.version, seq: e.seq, expiresAt: e.expiresAt, tombstone: true }, nowMs)
  }
}

const EMPTY = Buffer.alloc(0)
