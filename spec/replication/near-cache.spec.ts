import { expect } from 'chai'
import { NearCache } from '../../lib/replication/near-cache.js'

const v = (wall: number, origin = 'o'): { wall: number; counter: number; origin: string } => ({ wall, counter: 0, origin })

describe('near cache (partition mode)', () => {
  it('holds a value until a newer write passes; an older one changes nothing', () => {
    const near = new NearCache(10, 0)
    expect(near.put('k', 'a', v(10), 0, 0)).to.equal(true)
    near.passed('k', v(5), 'older', 0, 1)
    expect(near.get('k', 1)).to.equal('a')
    near.passed('k', v(20), 'b', 0, 2)
    expect(near.get('k', 2)).to.equal('b')
    near.passed('k', v(30), undefined, 0, 3) // a delete, or a value not decoded here
    expect(near.get('k', 3)).to.equal(undefined)
    expect(near.stats()).to.include({ invalidations: 2, hits: 2, misses: 1 })
  })

  it('refuses a value read from an owner when a newer write passed during the read', () => {
    const near = new NearCache(10, 0)
    near.begin('k')
    near.passed('k', v(20), undefined, 0, 0)
    expect(near.passedSince('k')).to.deep.equal(v(20))
    expect(near.put('k', 'read before the write', v(10), 0, 0)).to.equal(false)
    near.end('k')
    expect(near.passedSince('k')).to.equal(undefined)
    expect(near.put('k', 'now', v(10), 0, 0)).to.equal(true)
  })

  it('bounds its size, its values by their TTL and by its own, and drops a prefix', () => {
    const near = new NearCache(2, 100)
    near.put('a:1', 1, v(1), 0, 0)
    near.put('a:2', 2, v(1), 50, 0)
    near.put('b:1', 3, v(1), 0, 0)
    expect(near.stats().size).to.equal(2)
    expect(near.get('a:2', 49)).to.equal(2)
    expect(near.get('a:2', 50)).to.equal(undefined)
    expect(near.get('b:1', 99)).to.equal(3)
    expect(near.get('b:1', 100), 'nearCacheTtl').to.equal(undefined)
    near.put('a:3', 3, v(1), 0, 200)
    near.dropPrefix('a:')
    expect(near.has('a:3', 200)).to.equal(false)
  })

  it('is off with maxKeys 0', () => {
    const near = new NearCache(0, 0)
    expect(near.put('k', 1, v(1), 0, 0)).to.equal(false)
    expect(near.get('k', 0)).to.equal(undefined)
  })
})
