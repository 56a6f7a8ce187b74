import { expect } from 'chai'
import { decodeDelta, encodeEntry } from '../../lib/replication/delta.js'
import { VersionedStore, type Entry } from '../../lib/store/versioned-store.js'
import { write } from './store-fixtures.js'

const clearOf = (prefix: string, wall: number, origin: string, seq: number): Entry =>
  ({ key: prefix, bytes: Buffer.alloc(0), value: undefined, version: { wall, counter: 0, origin }, seq, expiresAt: 0, tombstone: true, clear: true })

describe('VersionedStore clears', () => {
  const store = (): VersionedStore => new VersionedStore({ maxKeys: 100, deletionDelayMs: 1000 })

  it('drops older entries of the prefix, keeps newer ones and other keys, and makes late older writes stale', () => {
    const s = store()
    s.apply(write({ key: 'ns:a', wall: 10, origin: 'a', seq: 1 }), 0)
    s.apply(write({ key: 'ns:b', wall: 30, origin: 'a', seq: 2 }), 0)
    s.apply(write({ key: 'other', wall: 10, origin: 'a', seq: 3 }), 0)
    expect(s.apply(clearOf('ns:', 20, 'b', 1), 0)).to.equal('applied')
    expect(s.peek('ns:a')).to.equal(undefined)
    expect(s.get('ns:b', () => 0)).to.equal('a@30.0')
    expect(s.get('other', () => 0)).to.equal('a@10.0')
    expect(s.apply(write({ key: 'ns:c', wall: 15, origin: 'c', seq: 1 }), 0)).to.equal('stale')
    expect(s.apply(write({ key: 'ns:c', wall: 25, origin: 'c', seq: 2 }), 0)).to.equal('applied')
    expect(s.apply(clearOf('ns:x', 18, 'd', 1), 0)).to.equal('stale') // under a newer covering clear
    expect(s.versionFloor('ns:zz')?.wall).to.equal(20)
  })

  it('is sent to a peer lacking it and purged after the delay', () => {
    const s = store()
    s.apply(clearOf('', 5, 'b', 1), 0)
    expect(s.entriesMissingFrom(new Map()).map((e) => e.clear)).to.deep.equal([true])
    expect(s.purge(999).tombstones).to.equal(0)
    expect(s.purge(1000).tombstones).to.equal(1)
    expect(s.clearRecords()).to.equal(0)
  })

  it('round-trips as a delta with kind 1, the empty prefix included', () => {
    const d = decodeDelta(encodeEntry(clearOf('', 7, 'o', 3)))
    expect(d).to.deep.include({ key: '', bytes: undefined, seq: 3, clear: true })
    expect(decodeDelta(encodeEntry(write({ key: 'k', wall: 1, origin: 'o', seq: 1 }))).clear).to.equal(undefined)
  })
})
