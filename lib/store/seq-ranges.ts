/**
 * Which write sequence numbers from one origin this node has seen.
 *
 * Each node numbers the writes it originates 1, 2, 3, … (dense per origin). A
 * store records, per origin, every number it has seen — applied, or found
 * already superseded by a newer version — as a sorted array of disjoint,
 * non-adjacent inclusive ranges `[start, end]`. Ranges are merged as numbers
 * arrive, so a node that has seen everything from an origin holds a single
 * range `[1, n]`, and a peer's whole coverage is a small digest: anti-entropy
 * compares digests instead of keys (DESIGN.md invariant 4), and a duplicate
 * datagram is recognised by {@link SeqRanges.has}.
 *
 * Cost. Arrivals are mostly in order, so the common case extends the last
 * range in O(1) without a search. An out-of-order number costs a binary
 * search plus, when it opens or closes a gap, an array splice over the ranges
 * after it. Lookups are O(log r) for r ranges.
 *
 * Bound. r grows by one for every gap (a lost or reordered write not yet
 * seen) and shrinks when the gap fills, so loss without repair could grow it
 * without bound. This class does not cap it: it cannot know which gaps are
 * safe to paper over. Callers watch {@link SeqRanges.rangeCount} and decide
 * (for example, trigger an anti-entropy round with the origin's peers, or
 * refuse a digest from the network that has too many ranges before calling
 * {@link SeqRanges.fromRanges}).
 */

/** One inclusive range of sequence numbers, `start <= end`. */
export type SeqRange = readonly [start: number, end: number]

/**
 * The set of sequence numbers seen from one origin, as merged ranges.
 * Sequence numbers are positive safe integers.
 */
export class SeqRanges {
  /** Sorted by start; disjoint and non-adjacent: `r[i][1] + 1 < r[i + 1][0]`. */
  private readonly r: Array<[number, number]> = []
  /** Sum of the range lengths, kept in step with `r`. */
  private total = 0

  /**
   * Builds a set from ranges in ascending order, as another node's
   * {@link SeqRanges.ranges} produced them. Adjacent ranges are merged.
   * Throws `RangeError` for anything else: a non-integer or non-positive
   * bound, `start > end`, or ranges that overlap or are out of order.
   */
  static fromRanges(ranges: ReadonlyArray<SeqRange>): SeqRanges {
    const out = new SeqRanges()
    if (!Array.isArray(ranges)) throw new RangeError('ranges must be an array')
    let prevEnd = 0
    for (let i = 0; i < ranges.length; i++) {
      const pair: unknown = ranges[i]
      if (!Array.isArray(pair) || pair.length !== 2) throw new RangeError(`range ${i} is not a [start, end] pair`)
      const [start, end] = pair as [unknown, unknown]
      if (!isSeq(start) || !isSeq(end)) throw new RangeError(`range ${i} has a bound that is not a positive integer`)
      if (start > end) throw new RangeError(`range ${i} has start ${start} > end ${end}`)
      if (start <= prevEnd) throw new RangeError(`range ${i} overlaps or precedes the range before it`)
      out.addRange(start, end)
      prevEnd = end
    }
    return out
  }

  /** Adds `seq`; returns `false` if it was already present. */
  add(seq: number): boolean {
    if (!isSeq(seq)) throw new RangeError(`sequence number must be a positive integer, got ${seq}`)
    const r = this.r
    const n = r.length
    if (n === 0) {
      r.push([seq, seq])
      this.total++
      return true
    }
    const last = r[n - 1]!
    if (seq === last[1] + 1) {
      last[1] = seq // the common case: the next number in order
      this.total++
      return true
    }
    if (seq > last[1]) {
      r.push([seq, seq])
      this.total++
      return true
    }
    if (seq >= last[0]) return false
    return this.insertBefore(seq, this.firstEndingAtOrAfter(seq))
  }

  /** Adds every number in `[start, end]`; returns how many were new. */
  addRange(start: number, end: number): number {
    if (!isSeq(start) || !isSeq(end)) throw new RangeError(`range bounds must be positive integers, got [${start}, ${end}]`)
    if (start > end) throw new RangeError(`range start ${start} > end ${end}`)
    const r = this.r
    // first range that touches or follows [start, end]: end >= start - 1
    const lo = this.firstEndingAtOrAfter(start - 1)
    // ranges lo..hi-1 touch or overlap [start, end] (start <= end + 1)
    let hi = lo
    let covered = 0
    while (hi < r.length && r[hi]![0] <= end + 1) {
      covered += overlap(r[hi]!, start, end)
      hi++
    }
    const added = end - start + 1 - covered
    if (lo === hi) {
      r.splice(lo, 0, [start, end])
    } else {
      const merged: [number, number] = [Math.min(start, r[lo]![0]), Math.max(end, r[hi - 1]![1])]
      if (hi - lo === 1) r[lo] = merged
      else r.splice(lo, hi - lo, merged)
    }
    this.total += added
    return added
  }

  /** Whether `seq` is present. O(log r); O(1) for numbers in the last range. */
  has(seq: number): boolean {
    const r = this.r
    const n = r.length
    if (n === 0) return false
    const last = r[n - 1]!
    if (seq >= last[0]) return seq <= last[1]
    const i = this.firstEndingAtOrAfter(seq)
    return i < n && r[i]![0] <= seq
  }

  /** Largest `n` such that 1..n are all present; 0 if 1 is missing. */
  contiguous(): number {
    const first = this.r[0]
    return first !== undefined && first[0] === 1 ? first[1] : 0
  }

  /** Largest number present; 0 when empty. */
  max(): number {
    const r = this.r
    return r.length === 0 ? 0 : r[r.length - 1]![1]
  }

  /** How many numbers are present. O(1). */
  count(): number {
    return this.total
  }

  /** How many disjoint ranges hold them (the digest size; see the bound note above). */
  rangeCount(): number {
    return this.r.length
  }

  /**
   * The ranges, ascending, disjoint and non-adjacent. A live view: do not
   * mutate it, and copy it if it must outlive later `add` calls.
   */
  ranges(): ReadonlyArray<SeqRange> {
    return this.r
  }

  /**
   * Whether `other` holds some number this set lacks (`other ⊄ this`). Used
   * as `peer.missingFrom(ours)`: "does the peer lack something we have".
   * O(1) when counts or maxima already decide it, else O(r + r').
   */
  missingFrom(other: SeqRanges): boolean {
    if (other.total === 0) return false
    if (other.total > this.total || other.max() > this.max()) return true
    const mine = this.r
    const theirs = other.r
    let i = 0
    for (const [start, end] of theirs) {
      // ours are maximal, so a contained range lies inside exactly one of them
      while (i < mine.length && mine[i]![1] < start) i++
      if (i === mine.length || mine[i]![0] > start || mine[i]![1] < end) return true
    }
    return false
  }

  /** Index of the first range with `end >= seq` (r.length if none). */
  private firstEndingAtOrAfter(seq: number): number {
    const r = this.r
    let lo = 0
    let hi = r.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (r[mid]![1] < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** Inserts `seq` given `i`, the first range with end >= seq. */
  private insertBefore(seq: number, i: number): boolean {
    const r = this.r
    const next = r[i]
    if (next !== undefined && next[0] <= seq) return false
    const prev = i > 0 ? r[i - 1]! : undefined
    const joinsPrev = prev !== undefined && prev[1] === seq - 1
    const joinsNext = next !== undefined && next[0] === seq + 1
    if (joinsPrev && joinsNext) {
      prev[1] = next[1]
      r.splice(i, 1)
    } else if (joinsPrev) {
      prev[1] = seq
    } else if (joinsNext) {
      next[0] = seq
    } else {
      r.splice(i, 0, [seq, seq])
    }
    this.total++
    return true
  }
}

function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0
}

/** How many numbers `[start, end]` shares with `range`. */
function overlap(range: readonly [number, number], start: number, end: number): number {
  const lo = Math.max(range[0], start)
  const hi = Math.min(range[1], end)
  return hi >= lo ? hi - lo + 1 : 0
}
