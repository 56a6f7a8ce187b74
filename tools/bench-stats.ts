/**
 * Percentile maths of bcache-bench: nearest-rank percentiles over samples
 * (no interpolation, so every reported figure is a lag that was observed).
 */

/** p50/p90/p99/max of a sample set, with its size. NaN figures when empty. */
export interface Percentiles {
  count: number
  p50: number
  p90: number
  p99: number
  max: number
}

/**
 * Nearest-rank percentile of ascending-sorted `sorted`: the smallest value
 * with at least `p` % of the samples at or below it. `p` in (0, 100].
 */
export function percentileSorted(sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`)
  if (sorted.length === 0) return NaN
  const rank = Math.ceil((p / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!
}

/** Sorts a copy (NaN samples dropped) and takes p50/p90/p99/max. */
export function percentiles(samples: ArrayLike<number>): Percentiles {
  const s = Float64Array.from(samples).filter((x) => !Number.isNaN(x)).sort()
  return {
    count: s.length,
    p50: percentileSorted(s, 50),
    p90: percentileSorted(s, 90),
    p99: percentileSorted(s, 99),
    max: s.length === 0 ? NaN : s[s.length - 1]!
  }
}

/** Arithmetic mean (NaN when empty). */
export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length
}
