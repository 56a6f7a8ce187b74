/**
 * What a store knows about each write origin (one per process start of a
 * node): the sequence numbers it has seen, whether it can vouch for them, how
 * many entries it holds from the origin, and when the origin last wrote.
 *
 * **Coverage is honest** (DESIGN.md invariant 9). The seen ranges say "do not
 * send me these again" — true for a write this node applied and later
 * evicted. But a peer that *adopts* this node's coverage after anti-entropy
 * must not lose a write by doing so, and a write this node evicted is not one
 * it can vouch for. So the record carries `lossy`: set once this node dropped
 * an entry of the origin by a local decision (LRU eviction, or an entry
 * larger than `maxBytes`). Peers adopt only the coverage of origins that are
 * not lossy (`replication/anti-entropy.ts`). TTL expiry does not make an
 * origin lossy: an expiry is the same instant on every node.
 *
 * **Retirement** (invariant 10). Every process start brings a new origin, so
 * without forgetting, digests would grow with every restart for the life of
 * the cluster. A record is retired when nothing depends on it: this node
 * holds no live entry or tombstone from it, it is not this process's own
 * origin, and it has not written anything for `idleMs` (longer than the
 * tombstone delay, so no retransmission of its writes is still in flight).
 * If a retired origin turns out to be alive after all and writes again, the
 * cost is bytes, not correctness: peers see the gap in our ranges and send
 * the entries they hold from it.
 *
 * Each record has a small integer `id`, unique among the records held, so
 * that the live entries can store their origin in a typed-array column
 * (slots.ts) instead of a string reference per key. An id is reused only
 * after its record is retired, which needs `held === 0`: no entry still
 * names it.
 */
import { SeqRanges, type SeqRange } from './seq-ranges.js'

/** One origin's record. Mutable; owned by the index. */
export interface OriginRecord {
  /** Seqs seen: applied, superseded or adopted from a peer's coverage. */
  readonly ranges: SeqRanges
  /** This node dropped an entry of the origin by a local decision: peers must not adopt its coverage. */
  lossy: boolean
  /** Live entries and tombstones held from the origin. */
  held: number
  /** Time of the last new seq (ms, the store's clock). */
  lastSeqMs: number
  /** The record's number, for columns of origins (see the file comment). */
  readonly id: number
  readonly origin: string
}

export class OriginIndex {
  private readonly byOrigin = new Map<string, OriginRecord>()
  /** id → record (`undefined`: a free id, listed in `freeIds`). */
  private readonly byId: (OriginRecord | undefined)[] = []
  private readonly freeIds: number[] = []

  /** The record of `origin`, created on first use. */
  record(origin: string, nowMs: number): OriginRecord {
    let r = this.byOrigin.get(origin)
    if (r === undefined) {
      const id = this.freeIds.pop() ?? this.byId.length
      r = { ranges: new SeqRanges(), lossy: false, held: 0, lastSeqMs: nowMs, id, origin }
      this.byOrigin.set(origin, r)
      this.byId[id] = r
    }
    return r
  }

  /** The record numbered `id` (see the file comment); it must be held. */
  byNumber(id: number): OriginRecord {
    return this.byId[id]!
  }

  /**
   * @param highestOnly - keep only each origin's highest seq (partition
   *   mode: a node applies the writes of the keys it owns only, so exact
   *   ranges would fragment without bound, and nothing compares them).
   *   Then {@link see} never reports a duplicate; last writer wins still
   *   makes a replayed write stale.
   */
  constructor(private readonly highestOnly = false) {}

  /** Records `seq` from `origin` as seen; false when it already was (a duplicate). */
  see(origin: string, seq: number, nowMs: number): boolean {
    const r = this.record(origin, nowMs)
    if (this.highestOnly) {
      if (seq > r.ranges.max()) r.ranges.addRange(1, seq)
    } else if (!r.ranges.add(seq)) return false
    r.lastSeqMs = nowMs
    return true
  }

  /** Records whole ranges as seen (adopted coverage). Throws `RangeError` for malformed ranges. */
  seeRanges(origin: string, ranges: ReadonlyArray<SeqRange>, nowMs: number): void {
    const r = this.record(origin, nowMs)
    let added = 0
    for (const [start, end] of ranges) added += r.ranges.addRange(start, end)
    if (added > 0) r.lastSeqMs = nowMs
  }

  /** One more entry held from `origin`; returns the record's id. */
  hold(origin: string, nowMs: number): number {
    const r = this.record(origin, nowMs)
    r.held++
    return r.id
  }

  /** One entry fewer held from `origin`; `lossy` when a local decision dropped it. */
  release(origin: string, lossy = false): void {
    const r = this.byOrigin.get(origin)
    if (r !== undefined) this.releaseRecord(r, lossy)
  }

  /** {@link release} by record id (see the file comment). */
  releaseNumber(id: number, lossy = false): void {
    this.releaseRecord(this.byId[id]!, lossy)
  }

  /** Marks `origin` lossy without an entry held (an entry refused for its size). */
  markLossy(origin: string, nowMs: number): void {
    this.record(origin, nowMs).lossy = true
  }

  /** The next seq `origin` should use: highest seen + 1. */
  nextSeq(origin: string): number {
    return (this.byOrigin.get(origin)?.ranges.max() ?? 0) + 1
  }

  get(origin: string): OriginRecord | undefined {
    return this.byOrigin.get(origin)
  }

  /** A live view of every record: do not modify. */
  view(): ReadonlyMap<string, OriginRecord> {
    return this.byOrigin
  }

  get size(): number {
    return this.byOrigin.size
  }

  /** Retires the records nothing depends on (see the file comment); returns how many went. */
  retire(nowMs: number, idleMs: number, keep: ReadonlySet<string>): number {
    let retired = 0
    for (const [origin, r] of this.byOrigin) {
      if (r.held > 0 || keep.has(origin) || nowMs - r.lastSeqMs < idleMs) continue
      this.byOrigin.delete(origin)
      this.byId[r.id] = undefined
      this.freeIds.push(r.id)
      retired++
    }
    return retired
  }

  private releaseRecord(r: OriginRecord, lossy: boolean): void {
    r.held--
    if (lossy) r.lossy = true
  }

  clear(): void {
    this.byOrigin.clear()
    this.byId.length = 0
    this.freeIds.length = 0
  }
}
