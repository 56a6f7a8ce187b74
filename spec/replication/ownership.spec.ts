import { expect } from 'chai'
import { Ownership, SEGMENTS, ownersOf, segmentOf, segmentOwners } from '../../lib/replication/ownership.js'

const members = (n: number): string[] => Array.from({ length: n }, (_, i) => `node-${i}`)

describe('ownership (partition mode)', () => {
  it('puts keys in segments evenly and deterministically', () => {
    const counts = new Array(SEGMENTS).fill(0)
    for (let i = 0; i < 409_600; i++) counts[segmentOf(`key-${i}`)]++
    expect(Math.min(...counts)).to.be.above(50)
    expect(Math.max(...counts)).to.be.below(160)
    expect(segmentOf('héllo☃')).to.equal(segmentOf('héllo☃'))
  })

  it('gives each segment `replicas` distinct owners, independent of member order', () => {
    const ids = members(7)
    for (let s = 0; s < 64; s++) {
      const a = segmentOwners(s, ids, 3)
      expect(new Set(a).size).to.equal(3)
      expect(segmentOwners(s, [...ids].reverse(), 3)).to.deep.equal(a)
    }
    expect(segmentOwners(1, ['only'], 2)).to.deep.equal(['only'])
    expect(segmentOwners(1, ['a', 'a', 'b'], 2)).to.deep.equal(segmentOwners(1, ['a', 'b'], 2))
  })

  it('a join moves about replicas/n of the segment slots, all to the joiner', () => {
    const before = members(5)
    const after = [...before, 'joiner']
    let moved = 0
    for (let s = 0; s < SEGMENTS; s++) {
      const o1 = segmentOwners(s, before, 2)
      const o2 = segmentOwners(s, after, 2)
      const gained = o2.filter((o) => !o1.includes(o))
      expect(gained.every((o) => o === 'joiner')).to.equal(true)
      moved += gained.length
    }
    const expected = (SEGMENTS * 2) / 6
    expect(moved).to.be.within(expected * 0.85, expected * 1.15)
  })

  it('a failure moves only the segments the failed member owned', () => {
    const ids = members(6)
    const rest = ids.filter((i) => i !== 'node-2')
    for (let s = 0; s < SEGMENTS; s++) {
      const o1 = segmentOwners(s, ids, 2)
      const o2 = segmentOwners(s, rest, 2)
      if (!o1.includes('node-2')) expect(o2).to.deep.equal(o1)
      else expect(o2).to.include.members(o1.filter((o) => o !== 'node-2'))
    }
  })

  it('Ownership follows the member list with a new table per change, and answers per key', () => {
    let ids = members(3)
    const own = new Ownership('node-0', 2, () => ids)
    const before = own.table()
    expect(own.refresh()).to.equal(false)
    expect(own.table()).to.equal(before)
    expect(own.ownersOfKey('k')).to.deep.equal(ownersOf('k', ids, 2))
    expect(own.owns('k')).to.equal(ownersOf('k', ids, 2).includes('node-0'))
    ids = members(4)
    expect(own.refresh()).to.equal(true)
    const s = segmentOf('k')
    expect(before[s]).to.deep.equal(segmentOwners(s, members(3), 2)) // the old table is left as it was
    expect(own.owners(s)).to.deep.equal(segmentOwners(s, members(4), 2))
    expect(own.sharedWith('node-1').every((seg) => own.owners(seg).includes('node-1') && own.ownsSegment(seg))).to.equal(true)
    expect(() => new Ownership('x', 0, () => [])).to.throw(RangeError, /replicas/)
  })
})
