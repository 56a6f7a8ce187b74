/**
 * A fixed-bucket histogram of durations in ms, cheap enough for every apply
 * and every fill: `observe` is a short linear scan over 13 bounds, two
 * additions, and no allocation.
 *
 * The bounds are fixed ({@link HISTOGRAM_BOUNDS_MS}, the last one `Infinity`)
 * so that every node's histograms add up bucket by bucket, and exporters
 * (Prometheus, OpenTelemetry) can map them one to one. `counts[i]` counts
 * the observations in `(bounds[i - 1], bounds[i]]` (not cumulative); a
 * negative or NaN observation counts as 0.
 */

/** Upper bounds of the buckets in ms; the last is `Infinity`. */
export const HISTOGRAM_BOUNDS_MS: readonly number[] = Object.freeze([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity])

/** A histogram as `stats()` reports it: a copy, safe to keep. */
export interface HistogramSnapshot {
  /** Upper bounds of the buckets in ms ({@link HISTOGRAM_BOUNDS_MS}); the last is `Infinity`. */
  buckets: number[]
  /** Observations per bucket, not cumulative: `counts[i]` is for `(buckets[i - 1], buckets[i]]`. */
  counts: number[]
  /** Observations in all. */
  count: number
  /** Sum of the observations in ms. */
  sum: number
}

/** A live fixed-bucket histogram (see the file comment). */
export class Histogram implements HistogramSnapshot {
  readonly buckets: number[] = HISTOGRAM_BOUNDS_MS as number[]
  readonly counts: number[] = HISTOGRAM_BOUNDS_MS.map(() => 0)
  count = 0
  sum = 0

  /** Records one observation in ms; negative or NaN counts as 0. */
  observe(ms: number): void {
    const v = ms > 0 ? ms : 0
    const bounds = this.buckets
    let i = 0
    while (v > bounds[i]!) i++
    this.counts[i]!++
    this.count++
    this.sum += v
  }
}

/** A copy of `h` (live or not) that later observations leave alone. */
export function snapshotHistogram(h: HistogramSnapshot): HistogramSnapshot {
  return { buckets: h.buckets.slice(), counts: h.counts.slice(), count: h.count, sum: h.sum }
}

/** `counts` made cumulative (`cumulative[i]` = observations ≤ `buckets[i]`), as Prometheus and OpenTelemetry buckets are. */
export function cumulativeCounts(h: HistogramSnapshot): number[] {
  let total = 0
  return h.counts.map((c) => (total += c))
}
