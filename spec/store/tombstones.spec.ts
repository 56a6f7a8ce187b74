import { expect } from 'chai'
import { Tombstones } from '../../lib/store/tombstones.js'
import { del } from './store-fixtures.js'

const keysOf = (t: Tombstones): string[] => [...t.entries()].map((e) => e.key)

describe('Tombstones', () => {
  it('keeps a tombstone until nowMs + deletionDelayMs, inclusive', () => {
    const t = new Tombstones(100)
    t.set(del({ key: 'a', wall: 1, origin: 'o', seq: 1 }), 1000)
    expect(t.purge(1099, 10)).to.equal(0)
    expect(t.get('a')?.key).to.equal('a')
    expect(t.purge(1100, 10)).to.equal(1)
    expect(t.get('a')).to.equal(undefined)
    expect(t.size).to.equal(0)
  })

  it('replacing a tombstone restarts its delay and moves it to the back', () => {
    const t = new Tombstones(100)
    t.set(del({ key: 'a', wall: 1, origin: 'o', seq: 1 }), 0)
    t.set(del({ key: 'b', wall: 1, origin: 'o', seq: 2 }), 10)
    t.set(del({ key: 'a', wall: 2, origin: 'o', seq: 3 }), 20)
    expect(keysOf(t)).to.deep.equal(['b', 'a'])
    expect(t.get('a')?.version.wall).to.equal(2)
    expect(t.purge(115, 10)).to.equal(1) // b (due 110); a now due at 120
    expect(keysOf(t)).to.deep.equal(['a'])
  })

  it('purges at most budget per call, oldest first', () => {
    const t = new Tombstones(0)
    for (let i = 0; i < 5; i++) t.set(del({ key: `k${i}`, wall: 1, origin: 'o', seq: i + 1 }), i)
    expect(t.purge(100, 2)).to.equal(2)
    expect(keysOf(t)).to.deep.equal(['k2', 'k3', 'k4'])
    expect(t.purge(100, 0)).to.equal(0)
  })

  it('delete and clear', () => {
    const t = new Tombstones(10)
    t.set(del({ key: 'a', wall: 1, origin: 'o', seq: 1 }), 0)
    t.set(del({ key: 'b', wall: 1, origin: 'o', seq: 2 }), 0)
    t.delete('a')
    expect(keysOf(t)).to.deep.equal(['b'])
    t.clear()
    expect(t.size).to.equal(0)
  })
})
