import { expect } from 'chai'
import { VersionedStore } from '../../lib/store/versioned-store.js'
import { write } from './store-fixtures.js'

describe('VersionedStore maxKeys', () => {
  // Defect: lru-cache `max` preallocated arrays of maxKeys slots.
  it('maxKeys: 1e9 builds a store at once, with no preallocation', () => {
    const before = process.memoryUsage().heapUsed
    const stores = [new VersionedStore({ maxKeys: 1e9, deletionDelayMs: 1000 }), new VersionedStore({ maxKeys: 1e9, deletionDelayMs: 1000 })]
    const grown = process.memoryUsage().heapUsed - before
    expect(grown, `heap grew ${grown} bytes`).to.be.below(50 * 1024 * 1024)
    stores[0]!.apply(write({ key: 'a', wall: 1, origin: 'o', seq: 1 }), 0)
    expect(stores[0]!.size()).to.equal(1)
  })

  it('eviction still respects maxKeys, least recently used first', () => {
    const s = new VersionedStore({ maxKeys: 3, deletionDelayMs: 1000 })
    const now = (): number => 0
    for (let i = 1; i <= 3; i++) s.apply(write({ key: `k${i}`, wall: i, origin: 'o', seq: i }), 0)
    s.get('k1', now) // k1 is now the most recent
    for (let i = 4; i <= 6; i++) {
      s.apply(write({ key: `k${i}`, wall: i, origin: 'o', seq: i }), 0)
      expect(s.size()).to.equal(3)
    }
    expect(['k1', 'k2', 'k3', 'k4', 'k5', 'k6'].filter((k) => s.has(k, now))).to.deep.equal(['k4', 'k5', 'k6'])
    expect(s.stats.evictions).to.equal(3)
  })
})
