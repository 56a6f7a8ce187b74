/**
 * The live half of a store: the entries that hold values, their LRU order,
 * their TTLs and their byte accounting, kept in the columns of slots.ts.
 *
 * What a slot holds for its value (`vals`, and `raws` for the bytes):
 * - a scalar (string, number, boolean, null) is kept **decoded only**: it
 *   cannot be mutated and re-encodes to the same value, so its bytes are
 *   made again when a peer needs them (anti-entropy), not kept. A local
 *   write passes the caller's primitive; a replicated scalar is decoded on
 *   arrival (cheap: no object to build).
 * - an object (or array, Buffer, Date) keeps its **encoded bytes**, as a
 *   latin1 string (one byte per char: the most compact form V8 has for
 *   bytes, and no Buffer view object per value), and its decoded form once
 *   read ({@link NOT_YET} until then). The writer reads what its peers read
 *   (invariant 12), and what is sent is the bytes, whatever a reader did to
 *   the object `get` returned.
 *
 * A read is one `Map` lookup, one array load and the LRU relink, as in a raw
 * lru-cache; a key with a TTL is known from its (negative) handle and costs
 * one load of its expiry and a `now()` call more, with no second lookup.
 *
 * `maxKeys` bounds the slots; `maxBytes` bounds the sum of {@link entrySize}
 * (an estimate of the memory really held per key; entry.ts). Either way the
 * least recently used key goes first. Every entry held is counted against
 * its write origin ({@link OriginIndex} `hold`/`release`); one dropped by a
 * local decision (eviction) marks the origin lossy.
 */
import { NOT_DECODED, entrySize, type Entry } from './entry.js'
import { ExpiryQueue } from './expiry-queue.js'
import type { OriginIndex } from './origin-index.js'
import type { SeqRanges } from './seq-ranges.js'
import { Slots } from './slots.js'
import type { EvictReason, StoreStats } from './store-stats.js'
import { decodeValue } from './value-codec.js'
import { NOT_YET, entryAt, storeValue, versionAt } from './slot-entries.js'
import { compareParts, type Version } from './version.js'

export interface LiveEntriesHooks {
  origins: OriginIndex
  stats: StoreStats
  onEvict: ((key: string, reason: EvictReason) => void) | undefined
  /** A live entry expired at `nowMs` (already removed and counted). */
  onExpired: (e: Entry, nowMs: number) => void
}

/** A key and the version of its write (what clears compare). */
export interface KeyVersion {
  key: string
  version: Version
}

export class LiveEntries {
  private readonly s: Slots
  /** Live entries with a TTL. */
  private ttlCount = 0
  private readonly expiry = new ExpiryQueue((slot, at) => this.s.keys[slot] !== undefined && this.s.expiresAt[slot] === at, () => this.ttlCount)
  /** Keys evicted during the current operation; reported when it is done. */
  private readonly evicted: string[] = []
  /** Sum of {@link entrySize} over the live entries. */
  private liveBytes = 0

  constructor(private readonly h: LiveEntriesHooks, private readonly maxKeys: number, private readonly maxBytes: number) {
    this.s = new Slots(maxKeys)
  }

  /** **Hot path.** See `VersionedStore.get`. */
  get(key: string, now: () => number): unknown {
    const s = this.s
    const h = s.index.get(key)
    if (h === undefined) return undefined
    if (h < 0) return this.getWithTtl(~h, now)
    const v = s.vals[h]
    s.touch(h)
    return v === NOT_YET ? this.decoded(h) : v
  }

  /** Whether `key` has a live entry, expired or not (no clock read, nothing changes). */
  holds(key: string): boolean {
    return this.s.index.has(key)
  }

  /** Whether `key` has a live, unexpired value. Does not refresh recency. */
  has(key: string, now: () => number): boolean {
    const h = this.s.index.get(key)
    return h !== undefined && (h >= 0 || !this.expiredNow(~h, now))
  }

  /**
   * The value of `key` without refreshing its recency: decoded as `get`
   * does, `undefined` when missing or expired at `now()` (an expired entry
   * is expired then, as by `has`).
   */
  peekValue(key: string, now: () => number): unknown {
    const h = this.s.index.get(key)
    if (h === undefined) return undefined
    const slot = h < 0 ? ~h : h
    if (h < 0 && this.expiredNow(slot, now)) return undefined
    return this.decoded(slot)
  }

  /**
   * The live keys, most recently used first, as an array: a snapshot, so
   * the caller may read and write while it walks it. May include keys
   * expired but not yet noticed.
   */
  keysByRecency(): string[] {
    const out: string[] = []
    for (const slot of this.s.byRecency()) out.push(this.s.keys[slot]!)
    return out
  }

  /** The live entry of `key` (a new object, bytes included), without touching recency or expiry. */
  peek(key: string): Entry | undefined {
    const slot = this.slotOf(key)
    return slot === undefined ? undefined : entryAt(this.s, this.h.origins, slot)
  }

  /** The version of `key`'s live entry (a new object), if any. */
  versionOf(key: string): Version | undefined {
    const slot = this.slotOf(key)
    return slot === undefined ? undefined : versionAt(this.s, this.h.origins, slot)
  }

  /** Whether `v` is newer than the version of `key`'s live entry (true when there is none). Allocates nothing. */
  isNewer(key: string, v: Version): boolean {
    const slot = this.slotOf(key)
    if (slot === undefined) return true
    const s = this.s
    return compareParts(v.wall, v.counter, v.origin, s.wall[slot]!, s.counter[slot]!, this.h.origins.byNumber(s.origin[slot]!).origin) > 0
  }

  /** When `key`'s live entry expires: 0 for never, `undefined` when there is none. */
  expiresAtOf(key: string): number | undefined {
    const slot = this.slotOf(key)
    return slot === undefined ? undefined : this.s.expiresAt[slot]
  }

  /** Makes `entry` the live entry for its key (over the previous one, if any), most recently used. */
  put(entry: Entry, nowMs: number): void {
    const { key, bytes, expiresAt } = entry
    const size = entrySize(entry)
    const { origins } = this.h
    if (this.maxBytes !== 0 && size > this.maxBytes) {
      this.drop(key) // it would not fit even alone: evicted on arrival
      origins.markLossy(entry.version.origin, nowMs)
      this.h.stats.evictions++
      this.h.onEvict?.(key, 'capacity')
      return
    }
    const s = this.s
    let slot = this.slotOf(key)
    if (slot !== undefined) {
      this.unaccount(slot, false)
      s.touch(slot)
    } else {
      if (s.count >= this.maxKeys) this.evictOldest()
      slot = s.add(key)
    }
    s.wall[slot] = entry.version.wall
    s.counter[slot] = entry.version.counter
    s.origin[slot] = origins.hold(entry.version.origin, nowMs)
    s.seq[slot] = entry.seq
    s.expiresAt[slot] = expiresAt
    storeValue(this.s, slot, entry.value, bytes)
    s.size[slot] = size
    this.liveBytes += size
    s.setHandle(key, expiresAt === 0 ? slot : ~slot)
    if (expiresAt !== 0) {
      this.ttlCount++
      this.expiry.push(slot, expiresAt)
    }
    while (this.maxBytes !== 0 && this.liveBytes > this.maxBytes) this.evictOldest()
    if (this.evicted.length !== 0) this.reportEvicted()
  }

  /** Removes `key`'s live entry, if any (no callback, no counting); whether there was one. */
  drop(key: string): boolean {
    const slot = this.slotOf(key)
    if (slot === undefined) return false
    this.unaccount(slot, false)
    this.s.remove(slot)
    return true
  }

  /** Expires up to `budget` entries due at `nowMs`, earliest first; returns how many. */
  expireDue(nowMs: number, budget: number): number {
    return this.expiry.popDue(nowMs, budget, (slot) => this.expire(slot, nowMs))
  }

  /** Key and version of every live entry (possibly including expired ones not yet noticed). */
  *versions(): Generator<KeyVersion, void, undefined> {
    for (const h of this.s.index.values()) {
      const slot = h < 0 ? ~h : h
      yield { key: this.s.keys[slot]!, version: versionAt(this.s, this.h.origins, slot) }
    }
  }

  /** Calls `fn` with the parts of every live entry (expired ones not yet noticed included); allocates nothing per entry. */
  forEachVersion(fn: (key: string, wall: number, counter: number, origin: string, expiresAt: number) => void): void {
    const s = this.s
    for (const h of s.index.values()) {
      const slot = h < 0 ? ~h : h
      fn(s.keys[slot]!, s.wall[slot]!, s.counter[slot]!, this.h.origins.byNumber(s.origin[slot]!).origin, s.expiresAt[slot]!)
    }
  }

  /** Appends to `out` the live entries (new objects) whose key `pick` accepts. */
  collect(pick: (key: string) => boolean, out: Entry[]): void {
    const s = this.s
    for (const h of s.index.values()) {
      const slot = h < 0 ? ~h : h
      if (pick(s.keys[slot]!)) out.push(entryAt(s, this.h.origins, slot))
    }
  }

  /**
   * Appends to `out` the live entries whose origin is in `behind` and whose
   * seq the peer's ranges there (`undefined`: none) do not hold.
   */
  collectMissing(behind: ReadonlyMap<string, SeqRanges | undefined>, out: Entry[]): void {
    const s = this.s
    const byId = new Map<number, SeqRanges | null>()
    for (const [origin, theirs] of behind) {
      const r = this.h.origins.get(origin)
      if (r !== undefined) byId.set(r.id, theirs ?? null)
    }
    for (const h of s.index.values()) {
      const slot = h < 0 ? ~h : h
      const theirs = byId.get(s.origin[slot]!)
      if (theirs === undefined || s.seq[slot] === 0) continue // seq 0: a local value, never sent (VersionedStore.putLocal)
      if (theirs === null || !theirs.has(s.seq[slot]!)) out.push(entryAt(this.s, this.h.origins, slot))
    }
  }

  get size(): number {
    return this.s.count
  }

  get bytes(): number {
    return this.liveBytes
  }

  clear(): void {
    this.s.clear()
    this.expiry.clear()
    this.ttlCount = 0
    this.evicted.length = 0
    this.liveBytes = 0
  }

  private slotOf(key: string): number | undefined {
    const h = this.s.find(key)
    return h === undefined ? undefined : h < 0 ? ~h : h
  }

  /** The slow half of {@link get} for a key with a TTL. */
  private getWithTtl(slot: number, now: () => number): unknown {
    if (this.expiredNow(slot, now)) return undefined
    this.s.touch(slot)
    return this.decoded(slot)
  }

  /** Whether the entry in `slot` (which has a TTL) has expired at `now()`; if so it is expired here and now. */
  private expiredNow(slot: number, now: () => number): boolean {
    const t = now()
    if (t < this.s.expiresAt[slot]!) return false
    this.expire(slot, t)
    return true
  }

  /** TTL expiry of the entry in `slot` at `nowMs`: removed, counted, reported, handed to `onExpired`. */
  private expire(slot: number, nowMs: number): void {
    const e = entryAt(this.s, this.h.origins, slot)
    this.unaccount(slot, false)
    this.s.remove(slot)
    this.h.onExpired(e, nowMs)
    this.h.stats.expirations++
    this.h.onEvict?.(e.key, 'expired')
  }

  /** Takes the entry in `slot` out of the accounting (`lossy`: dropped by a local decision). */
  private unaccount(slot: number, lossy: boolean): void {
    this.liveBytes -= this.s.size[slot]!
    if (this.s.expiresAt[slot] !== 0) this.ttlCount--
    // a local value (seq 0) stands for no write: dropping it loses nothing a peer could want
    this.h.origins.releaseNumber(this.s.origin[slot]!, lossy && this.s.seq[slot] !== 0)
  }

  /** LRU eviction of the least recently used entry. */
  private evictOldest(): void {
    const slot = this.s.head
    const key = this.s.keys[slot]!
    this.unaccount(slot, true)
    this.s.remove(slot)
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
   * The value in `slot`, decoded on first need and kept. Bytes that will
   * not decode drop the entry (counted in `stats.decodeErrors`).
   */
  private decoded(slot: number): unknown {
    const s = this.s
    const v = s.vals[slot]
    if (v !== NOT_YET) return v
    let out: unknown
    try {
      out = decodeValue(Buffer.from(s.raws.get(slot)!, 'latin1'))
    } catch {
      this.h.stats.decodeErrors++
      this.unaccount(slot, false)
      this.s.remove(slot)
      return undefined
    }
    s.vals[slot] = out
    return out
  }
}
