import { expect } from 'chai'
import { OriginIndex } from '../../lib/store/origin-index.js'

describe('OriginIndex', () => {
  it('see records a seq once (then a duplicate) and moves lastSeqMs only for a new seq', () => {
    const ix = new OriginIndex()
    expect(ix.see('o', 1, 100)).to.equal(true)
    expect(ix.see('o', 1, 200)).to.equal(false)
    expect(ix.get('o')!.lastSeqMs).to.equal(100)
    expect(ix.see('o', 3, 300)).to.equal(true)
    expect(ix.get('o')!.ranges.ranges()).to.deep.equal([[1, 1], [3, 3]])
    expect(ix.nextSeq('o')).to.equal(4)
    expect(ix.nextSeq('unknown')).to.equal(1)
  })

  it('seeRanges adopts ranges; only new seqs move lastSeqMs; malformed ranges throw RangeError', () => {
    const ix = new OriginIndex()
    ix.seeRanges('o', [[1, 5]], 100)
    ix.seeRanges('o', [[2, 4]], 200)
    expect(ix.get('o')!.lastSeqMs).to.equal(100)
    expect(ix.get('o')!.ranges.ranges()).to.deep.equal([[1, 5]])
    expect(() => ix.seeRanges('o', [[5, 2]], 300)).to.throw(RangeError)
  })

  it('hold/release count entries; release(lossy) and markLossy make the origin lossy for good', () => {
    const ix = new OriginIndex()
    ix.see('o', 1, 0)
    ix.hold('o', 0)
    ix.hold('o', 0)
    ix.release('o')
    expect(ix.get('o')).to.include({ held: 1, lossy: false })
    ix.release('o', true)
    expect(ix.get('o')).to.include({ held: 0, lossy: true })
    ix.see('o', 2, 0)
    expect(ix.get('o')!.lossy, 'stays lossy').to.equal(true)
    ix.markLossy('p', 0)
    expect(ix.get('p')!.lossy).to.equal(true)
    ix.release('never-seen') // no record: nothing happens
    expect(ix.get('never-seen')).to.equal(undefined)
  })

  it('retires only records that hold nothing, are not kept, and have been idle for idleMs', () => {
    const ix = new OriginIndex()
    ix.see('held', 1, 0)
    ix.hold('held', 0)
    ix.see('own', 1, 0)
    ix.see('recent', 1, 900)
    ix.see('idle', 1, 0)
    expect(ix.retire(1000, 500, new Set(['own']))).to.equal(1)
    expect([...ix.view().keys()].sort()).to.deep.equal(['held', 'own', 'recent'])
    ix.release('held')
    expect(ix.retire(1400, 500, new Set(['own']))).to.equal(2)
    expect([...ix.view().keys()]).to.deep.equal(['own'])
    expect(ix.size).to.equal(1)
  })
})
