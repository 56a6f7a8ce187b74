import { expect } from 'chai'
import { mean, percentileSorted, percentiles } from '../../tools/bench-stats.js'

describe('tools/bench-stats', () => {
  it('takes nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1) // 1..100
    const table: Array<[number, number]> = [[50, 50], [90, 90], [99, 99], [100, 100], [1, 1], [0.5, 1], [99.5, 100]]
    for (const [p, want] of table) expect(percentileSorted(xs, p), `p${p}`).to.equal(want)
    expect(percentileSorted([7], 50)).to.equal(7)
    expect(percentileSorted([1, 2], 50)).to.equal(1)
    expect(percentileSorted([1, 2], 51)).to.equal(2)
    expect(percentileSorted([], 50)).to.be.NaN
  })

  it('rejects percentiles outside (0, 100]', () => {
    expect(() => percentileSorted([1], 0)).to.throw(RangeError)
    expect(() => percentileSorted([1], 101)).to.throw(RangeError)
  })

  it('summarizes unsorted samples and ignores NaN', () => {
    const xs = [5, 1, NaN, 3, 2, 4, 10, 9, 8, 7, 6]
    expect(percentiles(xs)).to.deep.equal({ count: 10, p50: 5, p90: 9, p99: 10, max: 10 })
    expect(xs[0]).to.equal(5) // input untouched
    const empty = percentiles([])
    expect(empty.count).to.equal(0)
    expect(empty.max).to.be.NaN
  })

  it('averages', () => {
    expect(mean([1, 2, 3, 6])).to.equal(3)
    expect(mean([])).to.be.NaN
  })
})
