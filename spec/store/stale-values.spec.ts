import { expect } from 'chai'
import { StaleValues } from '../../lib/store/stale-values.js'
import { VersionedStore, entrySize } from '../../lib/store/versioned-store.js'
import { del, noClock, received, write } from './store-fixtures.js'

const T0 = 1_700_000_000_000
const at = (ms: number) => (): number => ms

function store(): VersionedStore {
  return new VersionedStore({ maxKeys: 100, deletionDelayMs: 10_000 })
}

describe('StaleValues (bounded map of recently expired values)', () => {
  it('keeps at most maxKeys entries, the least recently expired going first', () => {
    const s = new StaleValues(2, 1 << 20)
    for (const key of ['a', 'b', 'c']) s.keep(write({ key, value: key, wall: 1, origin: 'o', seq: 1 }))
    expect([s.get('a'), s.get('b'), s.get('c')]).to.deep.equal([undefined, 'b', 'c'])
    expect(s.size).to.equal(2)
  })

  it('keeps at most maxBytes, and never an entry larger than that on its own', () => {
    const one = write({ key: 'a', value: 'x'.repeat(100), wall: 1, origin: 'o', seq: 1 })
    const s = new StaleValues(100, entrySize(one) * 2)
    s.keep(write({ key: 'big', value: 'x'.repeat(1000), wall: 1, origin: 'o', seq: 2 }))
    expect(s.size).to.equal(0)
    for (const key of ['a', 'b', 'c']) s.keep(write({ key, value: 'x'.repeat(100), wall: 1, origin: 'o', seq: 3 }))
    expect(s.size).to.equal(2)
    expect(s.bytes).to.be.at.most(entrySize(one) * 2)
  })

  it('decodes a replicated value on first read, and drops bytes that will not decode', () => {
    const s = new StaleValues()
    s.keep(received(write({ key: 'r', value: { n: 1 }, wall: 1, origin: 'o', seq: 1 })))
    expect(s.get('r')).to.deep.equal({ n: 1 })
    s.keep({ ...received(write({ key: 'bad', wall: 1, origin: 'o', seq: 2 })), bytes: Buffer.from([0xc1]) })
    expect(s.get('bad')).to.equal(undefined)
    expect(s.size).to.equal(1)
  })
})

describe('VersionedStore stale values, peekValue, remainingTtl, keysByRecency', () => {
  it('keeps the value of a write that expired on read, on purge or on arrival', () => {
    const s = store()
    s.apply(write({ key: 'read', value: 1, wall: 1, origin: 'o', seq: 1, expiresAt: T0 + 10 }), T0)
    s.apply(write({ key: 'purged', value: 2, wall: 1, origin: 'o', seq: 2, expiresAt: T0 + 10 }), T0)
    s.apply(write({ key: 'arrived', value: 'older', wall: 1, origin: 'o', seq: 3 }), T0)
    expect(s.staleValue('read')).to.equal(undefined) // still live
    expect(s.get('read', at(T0 + 10))).to.equal(undefined)
    s.purge(T0 + 10)
    s.apply(received(write({ key: 'arrived', value: 'newer', wall: 2, origin: 'p', seq: 1, expiresAt: T0 + 5 })), T0 + 10)
    expect([s.staleValue('read'), s.staleValue('purged'), s.staleValue('arrived')]).to.deep.equal([1, 2, 'newer'])
    expect(s.staleCount()).to.equal(3)
  })

  it('forgets a stale value when the key is written again or deleted, and on clear', () => {
    const s = store()
    for (const [i, key] of ['w', 'd', 'c'].entries()) {
      s.apply(write({ key, value: key, wall: 1, origin: 'o', seq: i + 1, expiresAt: T0 + 10 }), T0)
      s.get(key, at(T0 + 20))
    }
    s.apply(write({ key: 'w', value: 'again', wall: 2, origin: 'o', seq: 10, expiresAt: T0 + 30 }), T0 + 20)
    s.apply(del({ key: 'd', wall: 2, origin: 'o', seq: 11 }), T0 + 20)
    expect(s.staleValue('w')).to.equal(undefined)
    expect(s.staleValue('d')).to.equal(undefined)
    expect(s.staleValue('c')).to.equal('c')
    s.get('w', at(T0 + 30)) // expires again: the newer value is kept
    expect(s.staleValue('w')).to.equal('again')
    s.clear()
    expect(s.staleCount()).to.equal(0)
  })

  it('does not keep an evicted value (eviction is not expiry)', () => {
    const s = new VersionedStore({ maxKeys: 1, deletionDelayMs: 10_000 })
    s.apply(write({ key: 'a', value: 1, wall: 1, origin: 'o', seq: 1, expiresAt: T0 + 100 }), T0)
    s.apply(write({ key: 'b', value: 2, wall: 1, origin: 'o', seq: 2 }), T0)
    expect(s.staleValue('a')).to.equal(undefined)
  })

  it('peekValue decodes without refreshing recency, and a later get returns the same decoded object', () => {
    const s = new VersionedStore({ maxKeys: 2, deletionDelayMs: 10_000 })
    s.apply(received(write({ key: 'a', value: { a: 1 }, wall: 1, origin: 'o', seq: 1 })), T0)
    s.apply(received(write({ key: 'b', value: { b: 1 }, wall: 1, origin: 'o', seq: 2 })), T0)
    expect(s.peekValue('a', noClock)).to.deep.equal({ a: 1 })
    expect(s.keysByRecency()).to.deep.equal(['b', 'a'])
    const first = s.get('a', noClock)
    expect(s.get('a', noClock)).to.equal(first) // the decoded object, no clock asked for
    expect(s.keysByRecency()).to.deep.equal(['a', 'b'])
  })

  it('peekValue respects TTL; remainingTtl is Infinity without one, 0 when missing or expired', () => {
    const s = store()
    s.apply(write({ key: 't', value: 1, wall: 1, origin: 'o', seq: 1, expiresAt: T0 + 100 }), T0)
    s.apply(write({ key: 'f', value: 1, wall: 1, origin: 'o', seq: 2 }), T0)
    expect(s.remainingTtl('t', T0 + 40)).to.equal(60)
    expect(s.remainingTtl('f', T0)).to.equal(Infinity)
    expect(s.remainingTtl('nope', T0)).to.equal(0)
    expect(s.remainingTtl('t', T0 + 150)).to.equal(0)
    expect(s.peekValue('t', at(T0 + 99))).to.equal(1)
    expect(s.peekValue('t', at(T0 + 100))).to.equal(undefined)
    expect(s.staleValue('t')).to.equal(1)
  })
})
