import { expect } from 'chai'
import { seededRandom, shuffle } from '../../lib/random.js'
import { SeqRanges, type SeqRange } from '../../lib/store/seq-ranges.js'

function of(...seqs: number[]): SeqRanges {
  const s = new SeqRanges()
  for (const n of seqs) s.add(n)
  return s
}

const r = (s: SeqRanges): SeqRange[] => s.ranges().map(([a, b]) => [a, b] as const)

describe('SeqRanges', () => {
  describe('add', () => {
    const table: Array<[why: string, seqs: number[], want: Array<[number, number]>]> = [
      ['empty', [], []],
      ['in order from 1', [1, 2, 3, 4], [[1, 4]]],
      ['in order with a gap', [1, 2, 5, 6], [[1, 2], [5, 6]]],
      ['reversed', [4, 3, 2, 1], [[1, 4]]],
      ['fills a gap joining both sides', [1, 3, 2], [[1, 3]]],
      ['joins the range before', [1, 2, 10, 3], [[1, 3], [10, 10]]],
      ['joins the range after', [1, 10, 9], [[1, 1], [9, 10]]],
      ['lands alone between two ranges', [1, 10, 5], [[1, 1], [5, 5], [10, 10]]],
      ['before everything', [10, 11, 3], [[3, 3], [10, 11]]],
      ['before everything, adjacent', [10, 11, 9], [[9, 11]]],
      ['not starting at 1', [7, 8, 9], [[7, 9]]],
      ['interleaved odd then even', [1, 3, 5, 7, 2, 6, 4], [[1, 7]]]
    ]
    for (const [why, seqs, want] of table) {
      it(why, () => {
        const s = of(...seqs)
        expect(r(s)).to.deep.equal(want)
        expect(s.count()).to.equal(seqs.length)
        expect(s.rangeCount()).to.equal(want.length)
      })
    }

    it('returns false for a number already present, anywhere', () => {
      const s = of(1, 2, 3, 7, 8, 20)
      for (const n of [1, 2, 3, 7, 8, 20]) expect(s.add(n), `seq ${n}`).to.equal(false)
      expect(s.count()).to.equal(6)
      for (const n of [4, 9, 19, 21]) expect(s.add(n), `seq ${n}`).to.equal(true)
    })

    it('rejects numbers that are not positive integers', () => {
      const s = new SeqRanges()
      for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) expect(() => s.add(bad), String(bad)).to.throw(RangeError)
    })

    it('matches a plain Set on random out-of-order inserts', () => {
      const random = seededRandom(42)
      for (let round = 0; round < 50; round++) {
        const s = new SeqRanges()
        const set = new Set<number>()
        for (let i = 0; i < 200; i++) {
          const n = 1 + Math.floor(random() * 120)
          expect(s.add(n)).to.equal(!set.has(n))
          set.add(n)
        }
        for (let n = 0; n <= 125; n++) expect(s.has(n), `has ${n}`).to.equal(set.has(n))
        expect(s.count()).to.equal(set.size)
        checkCanonical(s)
      }
    })
  })

  describe('has', () => {
    const s = of(2, 3, 4, 10, 12, 13)
    const table: Array<[number, boolean]> = [
      [0, false], [1, false], [2, true], [4, true], [5, false], [9, false], [10, true],
      [11, false], [12, true], [13, true], [14, false], [1e9, false]
    ]
    for (const [n, want] of table) it(`${n} → ${want}`, () => expect(s.has(n)).to.equal(want))
    it('on an empty set', () => expect(new SeqRanges().has(1)).to.equal(false))
  })

  describe('contiguous and max', () => {
    const table: Array<[seqs: number[], contiguous: number, max: number]> = [
      [[], 0, 0],
      [[2, 3], 0, 3],
      [[1], 1, 1],
      [[1, 2, 3, 5], 3, 5],
      [[5, 1, 3, 2, 4], 5, 5],
      [[1, 100], 1, 100]
    ]
    for (const [seqs, contiguous, max] of table) {
      it(`[${seqs.join(',')}] → contiguous ${contiguous}, max ${max}`, () => {
        const s = of(...seqs)
        expect(s.contiguous()).to.equal(contiguous)
        expect(s.max()).to.equal(max)
      })
    }
  })

  describe('addRange', () => {
    const table: Array<[why: string, before: number[], range: [number, number], want: Array<[number, number]>, added: number]> = [
      ['into empty', [], [3, 5], [[3, 5]], 3],
      ['after everything', [1, 2], [5, 9], [[1, 2], [5, 9]], 5],
      ['adjacent after', [1, 2], [3, 9], [[1, 9]], 7],
      ['before everything', [10], [1, 3], [[1, 3], [10, 10]], 3],
      ['adjacent before', [10], [1, 9], [[1, 10]], 9],
      ['already covered', [1, 2, 3, 4], [2, 3], [[1, 4]], 0],
      ['spanning several ranges', [1, 3, 5, 7, 9], [2, 8], [[1, 9]], 4],
      ['overlapping the end of one', [1, 2, 3, 10], [2, 6], [[1, 6], [10, 10]], 3],
      ['overlapping the start of one', [5, 6, 7], [2, 5], [[2, 7]], 3],
      ['inside a gap', [1, 20], [5, 6], [[1, 1], [5, 6], [20, 20]], 2],
      ['single number', [1, 3], [2, 2], [[1, 3]], 1]
    ]
    for (const [why, before, [start, end], want, added] of table) {
      it(why, () => {
        const s = of(...before)
        expect(s.addRange(start, end)).to.equal(added)
        expect(r(s)).to.deep.equal(want)
        expect(s.count()).to.equal(before.length + added)
      })
    }

    it('rejects bad bounds', () => {
      const s = new SeqRanges()
      expect(() => s.addRange(0, 3)).to.throw(RangeError)
      expect(() => s.addRange(4, 3)).to.throw(RangeError)
      expect(() => s.addRange(1, 1.5)).to.throw(RangeError)
    })

    it('matches a plain Set on random ranges', () => {
      const random = seededRandom(7)
      for (let round = 0; round < 50; round++) {
        const s = new SeqRanges()
        const set = new Set<number>()
        for (let i = 0; i < 30; i++) {
          const a = 1 + Math.floor(random() * 200)
          const b = a + Math.floor(random() * 10)
          let fresh = 0
          for (let n = a; n <= b; n++) if (!set.has(n)) { fresh++; set.add(n) }
          expect(s.addRange(a, b)).to.equal(fresh)
        }
        for (let n = 1; n <= 215; n++) expect(s.has(n)).to.equal(set.has(n))
        checkCanonical(s)
      }
    })
  })

  describe('fromRanges', () => {
    it('round-trips ranges()', () => {
      const s = of(1, 2, 3, 8, 9, 15)
      const copy = SeqRanges.fromRanges(s.ranges())
      expect(r(copy)).to.deep.equal(r(s))
      expect(copy.count()).to.equal(6)
    })

    it('merges adjacent ranges', () => {
      expect(r(SeqRanges.fromRanges([[1, 3], [4, 6], [9, 9]]))).to.deep.equal([[1, 6], [9, 9]])
    })

    const bad: Array<[why: string, input: unknown]> = [
      ['not an array', 'nope'],
      ['a pair that is not an array', [5]],
      ['a pair of the wrong length', [[1, 2, 3]]],
      ['zero', [[0, 2]]],
      ['negative', [[-3, 2]]],
      ['fraction', [[1, 2.5]]],
      ['a string bound', [['1', 2]]],
      ['start > end', [[5, 4]]],
      ['overlapping', [[1, 5], [5, 8]]],
      ['out of order', [[10, 12], [1, 2]]],
      ['beyond safe integers', [[1, 2 ** 53]]]
    ]
    for (const [why, input] of bad) {
      it(`rejects ${why}`, () => {
        expect(() => SeqRanges.fromRanges(input as ReadonlyArray<SeqRange>)).to.throw(RangeError)
      })
    }
  })

  describe('missingFrom', () => {
    const table: Array<[why: string, mine: Array<[number, number]>, theirs: Array<[number, number]>, want: boolean]> = [
      ['both empty', [], [], false],
      ['they have nothing', [[1, 5]], [], false],
      ['we have nothing', [], [[1, 1]], true],
      ['identical', [[1, 5], [8, 9]], [[1, 5], [8, 9]], false],
      ['they have a subset', [[1, 10]], [[2, 3], [5, 9]], false],
      ['they have a higher number', [[1, 10]], [[1, 11]], true],
      ['they fill our gap', [[1, 3], [5, 9]], [[4, 4]], true],
      ['they straddle our gap', [[1, 3], [5, 9]], [[3, 5]], true],
      ['they have fewer but one we lack', [[1, 3], [5, 20]], [[4, 4]], true],
      ['they lag behind with a gap', [[1, 20]], [[1, 5], [7, 8]], false],
      ['they start below us', [[5, 9]], [[4, 6]], true]
    ]
    for (const [why, mine, theirs, want] of table) {
      it(`${why} → ${want}`, () => {
        expect(SeqRanges.fromRanges(mine).missingFrom(SeqRanges.fromRanges(theirs))).to.equal(want)
      })
    }

    it('agrees with a brute-force subset check', () => {
      const random = seededRandom(99)
      for (let round = 0; round < 300; round++) {
        const a = randomSet(random)
        const b = randomSet(random)
        const brute = [...b.set].some((n) => !a.set.has(n))
        expect(a.ranges.missingFrom(b.ranges)).to.equal(brute)
      }
    })
  })

  it('extends the tail in constant time (100k in-order adds stay one range)', () => {
    const s = new SeqRanges()
    const order = shuffle(Array.from({ length: 100 }, (_, i) => i + 1), seededRandom(1))
    for (const n of order) s.add(n)
    for (let n = 101; n <= 100_000; n++) s.add(n)
    expect(r(s)).to.deep.equal([[1, 100_000]])
    expect(s.contiguous()).to.equal(100_000)
  })
})

function randomSet(random: () => number): { set: Set<number>; ranges: SeqRanges } {
  const set = new Set<number>()
  const ranges = new SeqRanges()
  const n = Math.floor(random() * 12)
  for (let i = 0; i < n; i++) {
    const x = 1 + Math.floor(random() * 16)
    set.add(x)
    ranges.add(x)
  }
  return { set, ranges }
}

/** Sorted, disjoint, non-adjacent, and count() agrees. */
function checkCanonical(s: SeqRanges): void {
  let prevEnd = -1
  let total = 0
  for (const [a, b] of s.ranges()) {
    expect(a).to.be.at.most(b)
    expect(a).to.be.greaterThan(prevEnd + 1)
    prevEnd = b
    total += b - a + 1
  }
  expect(s.count()).to.equal(total)
}
