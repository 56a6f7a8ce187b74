import { expect } from 'chai'
import { cumulativeCounts, Histogram, HISTOGRAM_BOUNDS_MS, snapshotHistogram } from '../../lib/histogram.js'

describe('Histogram (fixed buckets in ms)', () => {
  const bucketOf = (ms: number): number => {
    const h = new Histogram()
    h.observe(ms)
    return h.counts.findIndex((c) => c === 1)
  }

  it('has the bounds 1 … 5000 ms and +Inf', () => {
    expect(HISTOGRAM_BOUNDS_MS).to.deep.equal([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, Infinity])
  })

  const table: Array<[number, number]> = [
    [0, 0], [1, 0], [1.5, 1], [2, 1], [3, 2], [10, 3], [10.01, 4], [50, 5], [999, 9], [5000, 11], [5001, 12], [1e9, 12], [Infinity, 12],
    [-7, 0], [Number.NaN, 0] // negatives (a sender's clock ahead) and NaN count as 0
  ]
  for (const [ms, bucket] of table) {
    it(`puts ${ms} ms in bucket ${bucket} (≤ ${HISTOGRAM_BOUNDS_MS[bucket]})`, () => {
      expect(bucketOf(ms)).to.equal(bucket)
    })
  }

  it('keeps count and sum, clamping negatives to 0 in the sum too', () => {
    const h = new Histogram()
    for (const ms of [3, 30, -100, 300]) h.observe(ms)
    expect(h.count).to.equal(4)
    expect(h.sum).to.equal(333)
    expect(h.counts.reduce((a, b) => a + b, 0)).to.equal(4)
  })

  it('snapshots are copies that later observations leave alone', () => {
    const h = new Histogram()
    h.observe(4)
    const snap = snapshotHistogram(h)
    h.observe(4)
    snap.buckets[0] = 99
    expect(snap).to.deep.include({ count: 1, sum: 4 })
    expect(snap.counts[2]).to.equal(1)
    expect(h.buckets[0]).to.equal(1)
    expect(HISTOGRAM_BOUNDS_MS[0]).to.equal(1)
  })

  it('makes counts cumulative for exporters', () => {
    const h = new Histogram()
    for (const ms of [0.5, 1.5, 1.7, 7000]) h.observe(ms)
    expect(cumulativeCounts(h)).to.deep.equal([1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4])
  })
})
