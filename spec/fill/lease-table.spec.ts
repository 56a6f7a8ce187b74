import { expect } from 'chai'
import { LeaseTable } from '../../lib/fill/lease-table.js'

describe('LeaseTable', () => {
  it('grants the first asker and refuses the others until expiry', () => {
    const t = new LeaseTable()
    expect(t.grant('k', 'a', 1000, 500)).to.deep.equal({ granted: true, expiresAt: 1500 })
    expect(t.grant('k', 'b', 1200, 500)).to.deep.equal({ granted: false, holder: 'a', expiresAt: 1500 })
    expect(t.grant('k', 'c', 1499, 500)).to.deep.equal({ granted: false, holder: 'a', expiresAt: 1500 })
    expect(t.holder('k', 1499)).to.deep.equal({ holder: 'a', expiresAt: 1500 })
    // expired at 1500 exactly: the next asker gets it
    expect(t.grant('k', 'b', 1500, 500)).to.deep.equal({ granted: true, expiresAt: 2000 })
    expect(t.holder('k', 1600)?.holder).to.equal('b')
  })

  it('keeps keys apart', () => {
    const t = new LeaseTable()
    expect(t.grant('k1', 'a', 0, 100).granted).to.equal(true)
    expect(t.grant('k2', 'b', 0, 100).granted).to.equal(true)
    expect(t.size).to.equal(2)
  })

  it('renews the holder asking again', () => {
    const t = new LeaseTable()
    t.grant('k', 'a', 0, 100)
    expect(t.grant('k', 'a', 50, 100)).to.deep.equal({ granted: true, expiresAt: 150 })
    expect(t.grant('k', 'b', 120, 100)).to.deep.equal({ granted: false, holder: 'a', expiresAt: 150 })
  })

  it('releases only for the holder', () => {
    const t = new LeaseTable()
    t.grant('k', 'a', 0, 100)
    expect(t.release('k', 'b')).to.equal(false)
    expect(t.grant('k', 'b', 10, 100).granted).to.equal(false)
    expect(t.release('k', 'a')).to.equal(true)
    expect(t.release('k', 'a')).to.equal(false)
    expect(t.grant('k', 'b', 10, 100).granted).to.equal(true)
    expect(t.release('missing', 'a')).to.equal(false)
  })

  it('purges expired leases only', () => {
    const t = new LeaseTable()
    t.grant('k1', 'a', 0, 100)
    t.grant('k2', 'a', 0, 300)
    t.grant('k3', 'b', 50, 100)
    expect(t.purge(150)).to.equal(2)
    expect(t.size).to.equal(1)
    expect(t.holder('k2', 150)?.holder).to.equal('a')
    expect(t.purge(150)).to.equal(0)
  })

  it('stays bounded: drops expired leases first, else evicts the oldest', () => {
    const t = new LeaseTable({ maxEntries: 3 })
    t.grant('k1', 'a', 0, 100)
    t.grant('k2', 'a', 10, 100)
    t.grant('k3', 'a', 20, 100)
    t.grant('k4', 'a', 30, 100) // nothing expired: k1 evicted
    expect(t.size).to.equal(3)
    expect(t.evicted).to.equal(1)
    expect(t.holder('k1', 30)).to.equal(undefined)
    expect(t.grant('k1', 'b', 30, 100).granted).to.equal(true) // k2 evicted
    expect(t.evicted).to.equal(2)
    // at 125, k3 (exp 120) and k4 (exp 130 — live) : k3 is dropped, no eviction
    t.grant('k5', 'a', 125, 100)
    expect(t.evicted).to.equal(2)
    expect(t.size).to.equal(3)
    expect(t.holder('k3', 125)).to.equal(undefined)
    expect(t.holder('k4', 125)?.holder).to.equal('a')
    // re-granting a present key never evicts
    t.grant('k4', 'a', 126, 100)
    expect(t.size).to.equal(3)
    expect(t.evicted).to.equal(2)
  })

  it('remembers who was refused while a lease was held, and hands them to its release', () => {
    const t = new LeaseTable()
    t.grant('k', 'a', 0, 100)
    t.grant('k', 'b', 10, 100)
    t.grant('k', 'c', 20, 100)
    t.grant('k', 'b', 30, 100) // asked again: remembered once
    t.grant('k', 'a', 40, 100) // the holder renews: the refused stay
    expect(t.end('k', 'b')).to.equal(undefined) // not the holder: nothing changes
    expect(t.end('k', 'a')).to.deep.equal(['b', 'c'])
    expect(t.end('k', 'a')).to.equal(undefined)
    // the next lease starts with nobody refused
    t.grant('k', 'b', 50, 100)
    expect(t.end('k', 'b')).to.deep.equal([])
  })

  it('forgets the refused when the lease expires and another node takes it', () => {
    const t = new LeaseTable()
    t.grant('k', 'a', 0, 100)
    t.grant('k', 'b', 10, 100)
    t.grant('k', 'c', 100, 100) // a's lease expired: c is granted
    expect(t.end('k', 'c')).to.deep.equal([])
    t.grant('k', 'a', 200, 100)
    t.grant('k', 'b', 210, 100)
    t.grant('k', 'a', 300, 100) // a's own lease expired, granted afresh
    expect(t.end('k', 'a')).to.deep.equal([])
  })

  it('caps the refused remembered per lease', () => {
    let cap = 2
    const t = new LeaseTable({ maxRefusedPerLease: () => cap })
    t.grant('k', 'h', 0, 100)
    for (const id of ['a', 'b', 'c', 'd']) expect(t.grant('k', id, 1, 100).granted).to.equal(false) // still refused
    cap = 3
    t.grant('k', 'e', 2, 100)
    expect(t.end('k', 'h')).to.deep.equal(['a', 'b', 'e'])
    expect(() => new LeaseTable({ maxRefusedPerLease: 3 as unknown as () => number })).to.throw(TypeError, /maxRefusedPerLease/)
  })

  it('clears', () => {
    const t = new LeaseTable()
    t.grant('k', 'a', 0, 100)
    t.clear()
    expect(t.size).to.equal(0)
    expect(t.grant('k', 'b', 1, 100).granted).to.equal(true)
  })

  for (const bad of [0, -1, 1.5, NaN]) {
    it(`rejects maxEntries ${bad}`, () => {
      expect(() => new LeaseTable({ maxEntries: bad })).to.throw(RangeError, /maxEntries/)
    })
  }
})

describe('LeaseTable lease ids', () => {
  it('a renewed lease never reuses the last expiry (its id), and a release naming an earlier lease changes nothing', () => {
    const t = new LeaseTable()
    const first = t.grant('k', 'a', 0, 100)
    const second = t.grant('k', 'a', 0, 100) // renewed in the same ms
    expect(first).to.deep.equal({ granted: true, expiresAt: 100 })
    expect(second).to.deep.equal({ granted: true, expiresAt: 101 })
    expect(t.grant('k', 'b', 10, 100).granted).to.equal(false)
    expect(t.end('k', 'a', 100), 'the first lease is over already').to.equal(undefined)
    expect(t.holder('k', 50)?.holder).to.equal('a')
    expect(t.end('k', 'a', 101)).to.deep.equal(['b'])
    expect(t.holder('k', 50)).to.equal(undefined)
  })
})
