/**
 * The node-local replica: a last-writer-wins map of versioned entries.
 *
 * Three structures, all keyed by cache key or origin:
 *
 * - `live`: an `lru-cache` of live entries, bounded by `maxKeys` and
 *   optionally `maxBytes` (see {@link entrySize}). A read is one `lru-cache`
 *   `get` plus, only for keys with a TTL, one clock call; values that came
 *   from the network are decoded on first read and the result is kept in the
 *   entry.
 * - `tombs`: deleted keys, each kept for `deletionDelayMs` after it was
 *   applied so that an older write arriving late cannot resurrect the key
 *   (DESIGN.md invariant 2). Insertion-ordered, so {@link purge} finds the
 *   due ones at the front.
 * - `seenBy`: per origin, the {@link SeqRanges} of write sequence numbers this
 *   node has seen (applied, or found superseded). It recognises duplicate
 *   datagrams, and it is the digest anti-entropy compares
 *   ({@link entriesMissingFrom}).
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
 * `onEvict`, and never create tombstones. Their sequence numbers stay seen.
 *
 * Ownership: `apply` keeps the entry object it is given (no copy, it is the
 * hot path). Callers must not change it afterwards; the store itself only
 * ever fills in `value` on first read.
 */
import { LRUCache } from 'lru-cache'
import { SeqRanges, type SeqRange } from './seq-ranges.js'
import { decodeValue } from './value-codec.js'
import { compareVersions, type Version } from './version.js'

export { decodeValue, encodeValue, isValueBytes } from './value-codec.js'
export type { Version } from './version.js'

/** Marks {@link Entry.value} as not decoded yet (replicated values decode on first read). */
export const NOT_DECODED: unique symbol = Symbol('bcache.notDecoded')

/** One versioned cache entry, live or tombstone. */
export interface Entry {
  key: string
  /** Encoded value (msgpack bytes); reused for every send. Empty for tombstones. */
  bytes: Buffer
  /** Decoded value, or {@link NOT_DECODED} until first read (lazy decode of replicated values). */
  value: unknown
  version: Version
  /** Write sequence number at its origin (for anti-entropy coverage). */
  seq: number
  /** Absolute expiry in ms since epoch; 0 = never. */
  expiresAt: number
  tombstone: boolean
}

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
}

/** Bytes counted per entry on top of its value bytes and key. */
export const ENTRY_OVERHEAD_BYTES = 64

/**
 * The size an entry counts against `maxBytes`: `bytes.length + 2 ×
 * key.length + 64`. The key term approximates a UTF-16 string; the constant
 * stands for the entry object, its version and the LRU's bookkeeping. An
 * estimate, not a measurement of the heap.
 */
export function entrySize(entry: Entry): number {
  return entry.bytes.length + entry.key.length * 2 + ENTRY_OVERHEAD_BYTES
}

/** A deleted key and when its tombstone may go. */
interface Tomb {
  entry: Entry
  purgeAtMs: number
}

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
    missingScans: 0
  }

  private readonly live: LRUCache<string, Entry>
  /** Insertion order ≈ purge order. Never holds a key that is also in `live`. */
  private readonly tombs = new Map<string, Tomb>()
  private readonly seenBy = new Map<string, SeqRanges>()
  /** Keys in `live` whose entry has `expiresAt !== 0`; what purge scans. */
  private readonly ttlKeys = new Set<string>()
  /** Where the last purge stopped in `ttlKeys`; undefined = start over. */
  private ttlCursor: Iterator<string> | undefined
  /** Keys evicted during the current operation; reported when it is done. */
  private readonly evicted: string[] = []
  /** Sum of {@link entrySize} over `live`. */
  private liveBytes = 0
  private readonly maxBytes: number
  private readonly deletionDelayMs: number
  private readonly onEvict: ((key: string, reason: EvictReason) => void) | undefined

  constructor(init: VersionedStoreInit) {
    const { maxKeys, maxBytes = 0, deletionDelayMs } = init
    if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) throw new RangeError(`maxKeys must be a positive integer, got ${maxKeys}`)
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`)
    if (!Number.isFinite(deletionDelayMs) || deletionDelayMs < 0) {
      throw new RangeError(`deletionDelayMs must be a finite number >= 0, got ${deletionDelayMs}`)
    }
    this.maxBytes = maxBytes
    this.deletionDelayMs = deletionDelayMs
    this.onEvict = init.onEvict
    this.live = new LRUCache<string, Entry>({
      max: maxKeys,
      ...(maxBytes > 0 ? { maxSize: maxBytes, sizeCalculation: entrySize } : {}),
      dispose: (entry, key, reason) => this.disposed(entry, key, reason)
    })
  }

  /**
   * **Hot path.** The decoded value for `key`, or `undefined` when it is
   * missing, deleted or expired at `now()`. An expired entry is removed
   * locally (never gossiped). Refreshes the key's recency. `now` is only
   * called for keys that have a TTL.
   */
  get(key: string, now: () => number): unknown {
    const e = this.live.get(key)
    if (e === undefined) return undefined
    if (e.expiresAt !== 0 && now() >= e.expiresAt) {
      this.expireLive(key)
      return undefined
    }
    const v = e.value
    return v === NOT_DECODED ? this.decode(e) : v
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    const e = this.live.peek(key)
    if (e === undefined) return false
    if (e.expiresAt !== 0 && now() >= e.expiresAt) {
      this.expireLive(key)
      return false
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
    let seen = this.seenBy.get(origin)
    if (seen === undefined) {
      seen = new SeqRanges()
      this.seenBy.set(origin, seen)
    }
    if (!seen.add(entry.seq)) {
      this.stats.duplicates++
      return 'duplicate'
    }
    const key = entry.key
    const current = this.live.peek(key)
    const tomb = this.tombs.size === 0 ? undefined : this.tombs.get(key)
    if (
      (current !== undefined && compareVersions(entry.version, current.version) <= 0) ||
      (tomb !== undefined && compareVersions(entry.version, tomb.entry.version) <= 0)
    ) {
      this.stats.stale++
      return 'stale'
    }
    if (entry.tombstone) {
      if (current !== undefined) this.live.delete(key)
      if (tomb !== undefined) this.tombs.delete(key) // re-insert at the back: purge order
      this.tombs.set(key, { entry, purgeAtMs: nowMs + this.deletionDelayMs })
      this.stats.applied++
      return 'applied'
    }
    if (entry.expiresAt !== 0 && nowMs >= entry.expiresAt) {
      this.stats.expirations++
      if (current !== undefined) {
        this.live.delete(key)
        this.onEvict?.(key, 'expired')
      }
      return 'expired'
    }
    if (tomb !== undefined) this.tombs.delete(key)
    this.store(key, entry, current)
    this.stats.applied++
    return 'applied'
  }

  /** The entry for `key`, live or tombstone, without touching recency or expiry. */
  peek(key: string): Entry | undefined {
    return this.live.peek(key) ?? this.tombs.get(key)?.entry
  }

  /**
   * Housekeeping, bounded to about `maxScan` entries looked at per call:
   * drops tombstones whose delay has passed (oldest first), then expired
   * live entries, resuming where the previous call stopped. Tombstones are
   * visited in the order they were applied and the walk stops at the first
   * one not yet due; if `nowMs` went backward between applies, a due
   * tombstone can wait behind it for a while (it is only memory).
   * @param maxScan - entries looked at per call. @default 1000
   */
  purge(nowMs: number, maxScan = 1000): { tombstones: number; expired: number } {
    let budget = maxScan
    let tombstones = 0
    for (const [key, t] of this.tombs) {
      if (budget <= 0 || t.purgeAtMs > nowMs) break
      budget--
      this.tombs.delete(key)
      tombstones++
    }
    let expired = 0
    while (budget > 0 && this.ttlKeys.size > 0) {
      this.ttlCursor ??= this.ttlKeys.values()
      const next = this.ttlCursor.next()
      if (next.done === true) {
        this.ttlCursor = undefined
        break
      }
      budget--
      const e = this.live.peek(next.value)
      if (e !== undefined && nowMs >= e.expiresAt) {
        this.expireLive(next.value)
        expired++
      }
    }
    return { tombstones, expired }
  }

  /** Per-origin seen ranges. A live view: do not modify. */
  seen(): ReadonlyMap<string, SeqRanges> {
    return this.seenBy
  }

  /**
   * Records every sequence number in `ranges` from `origin` as seen. For
   * anti-entropy: after merging a peer's missing entries, adopt its coverage
   * (what it has, or knows to be superseded, we now have or know too).
   * Throws `RangeError` for malformed ranges.
   */
  markSeen(origin: string, ranges: ReadonlyArray<SeqRange>): void {
    let seen = this.seenBy.get(origin)
    if (seen === undefined) {
      seen = new SeqRanges()
      this.seenBy.set(origin, seen)
    }
    for (const [start, end] of ranges) seen.addRange(start, end)
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
    for (const [origin, ours] of this.seenBy) {
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
    for (const e of this.live.values()) consider(e)
    for (const t of this.tombs.values()) consider(t.entry)
    return out
  }

  /** The sequence number for the next write originated by `origin`: highest seen + 1. */
  nextSeq(origin: string): number {
    return (this.seenBy.get(origin)?.max() ?? 0) + 1
  }

  /** Live entries (possibly including expired ones not yet noticed). */
  size(): number {
    return this.live.size
  }

  /** Tombstones held. */
  tombstones(): number {
    return this.tombs.size
  }

  /** Sum of {@link entrySize} over live entries. */
  bytes(): number {
    return this.liveBytes
  }

  /** Forgets everything: live entries, tombstones and seen ranges (stats are kept). */
  clear(): void {
    this.live.clear()
    this.tombs.clear()
    this.seenBy.clear()
    this.ttlKeys.clear()
    this.ttlCursor = undefined
    this.evicted.length = 0
    this.liveBytes = 0
  }

  /** Puts `entry` in the LRU over `current` (the live entry for `key`, if any). */
  private store(key: string, entry: Entry, current: Entry | undefined): void {
    const size = entrySize(entry)
    if (this.maxBytes !== 0 && size > this.maxBytes) {
      // lru-cache would refuse it; treat it as evicted on arrival
      if (current !== undefined) this.live.delete(key)
      this.stats.evictions++
      this.onEvict?.(key, 'capacity')
      return
    }
    this.live.set(key, entry)
    this.liveBytes += size
    if (entry.expiresAt !== 0) this.ttlKeys.add(key)
    else if (current !== undefined && current.expiresAt !== 0) this.ttlKeys.delete(key)
    if (this.evicted.length !== 0) this.reportEvicted()
  }

  /** lru-cache's dispose hook: runs for every live entry that leaves or is replaced. */
  private disposed(entry: Entry, key: string, reason: LRUCache.DisposeReason): void {
    this.liveBytes -= entrySize(entry)
    if (reason === 'set') return // replaced; `store` settles ttlKeys
    if (entry.expiresAt !== 0) this.ttlKeys.delete(key)
    if (reason === 'evict') {
      this.stats.evictions++
      this.evicted.push(key)
    }
  }

  /** Calls `onEvict` for the keys evicted by the operation that just finished. */
  private reportEvicted(): void {
    const keys = this.evicted.splice(0)
    if (this.onEvict === undefined) return
    for (const key of keys) this.onEvict(key, 'capacity')
  }

  private expireLive(key: string): void {
    this.live.delete(key)
    this.stats.expirations++
    this.onEvict?.(key, 'expired')
  }

  /** First read of a replicated value; bytes that will not decode drop the entry. */
  private decode(e: Entry): unknown {
    try {
      e.value = decodeValue(e.bytes)
      return e.value
    } catch {
      this.stats.decodeErrors++
      if (this.live.peek(e.key) === e) this.live.delete(e.key)
      return undefined
    }
  }
}
