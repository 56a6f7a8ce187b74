import { expect } from 'chai'
import { SeqRanges } from '../../lib/store/seq-ranges.js'
import {
  ENTRY_OVERHEAD_BYTES,
  NOT_DECODED,
  VersionedStore,
  encodeValue,
  entrySize,
  type Entry,
  type EvictReason,
  type VersionedStoreInit
} from '../../lib/store/versioned-store.js'
import { del, noClock, permutations, received, write } from './store-fixtures.js'

const T0 = 1_700_000_000_000
const at = (ms: number) => (): number => ms

function store(init: Partial<VersionedStoreInit> = {}): { s: VersionedStore; evicted: Array<[string, EvictReason]> } {
  const evicted: Array<[string, EvictReason]> = []
  const s = new VersionedStore({
    maxKeys: 1000,
    deletionDelayMs: 10_000,
    onEvict: (key, reason) => evicted.push([key, reason]),
    ...init
  })
  return { s, evicted }
}

describe('VersionedStore', () => {
  describe('last writer wins', () => {
    it('all orders of 4 writes from 3 origins end in the same entry', () => {
      const writes = [
        write({ wall: 100, origin: 'a', seq: 1 }),
        write({ wall: 105, counter: 2, origin: 'b', seq: 1 }),
        write({ wall: 105, counter: 2, origin: 'c', seq: 1 }), // ties with b on (wall, counter): c wins
        write({ wall: 103, origin: 'a', seq: 2 })
      ]
      for (const order of permutations(writes)) {
        const { s } = store()
        for (const e of order) s.apply(received(e), T0)
        expect(s.peek('k')?.version).to.deep.equal({ wall: 105, counter: 2, origin: 'c' })
        expect(s.get('k', noClock)).to.equal('c@105.2')
        expect(s.stats.applied + s.stats.stale).to.equal(4)
      }
    })

    it('breaks ties on (wall, counter) by origin, whatever the order', () => {
      const x = write({ wall: 5, origin: 'node-2', seq: 1 })
      const y = write({ wall: 5, origin: 'node-10', seq: 1 })
      const { s: s1 } = store()
      expect([s1.apply(received(x), T0), s1.apply(received(y), T0)]).to.deep.equal(['applied', 'stale'])
      const { s: s2 } = store()
      expect([s2.apply(received(y), T0), s2.apply(received(x), T0)]).to.deep.equal(['applied', 'applied'])
      for (const s of [s1, s2]) expect(s.get('k', noClock)).to.equal('node-2@5.0') // '2' > '1' as strings
    })

    it('reports stale for an older write and keeps the newer one', () => {
      const { s } = store()
      expect(s.apply(write({ wall: 10, origin: 'a', seq: 1 }), T0)).to.equal('applied')
      expect(s.apply(write({ wall: 9, origin: 'b', seq: 1 }), T0)).to.equal('stale')
      expect(s.apply(write({ wall: 10, origin: 'a', seq: 2 }), T0)).to.equal('stale') // equal version
      expect(s.get('k', noClock)).to.equal('a@10.0')
      expect(s.stats).to.include({ applied: 1, stale: 2 })
    })
  })

  describe('deletes', () => {
    it('a tombstone beats an older write arriving later', () => {
      const { s } = store()
      s.apply(write({ wall: 10, origin: 'a', seq: 1 }), T0)
      expect(s.apply(del({ wall: 20, origin: 'b', seq: 1 }), T0)).to.equal('applied')
      expect(s.get('k', noClock)).to.equal(undefined)
      expect(s.apply(write({ wall: 15, origin: 'c', seq: 1 }), T0)).to.equal('stale')
      expect(s.get('k', noClock)).to.equal(undefined)
      expect(s.peek('k')?.tombstone).to.equal(true)
      expect(s.size()).to.equal(0)
      expect(s.tombstones()).to.equal(1)
    })

    it('a delete of a never-seen key still wins over an older write applied afterwards', () => {
      const { s } = store()
      expect(s.apply(del({ wall: 20, origin: 'b', seq: 1 }), T0)).to.equal('applied')
      expect(s.apply(write({ wall: 19, origin: 'a', seq: 1 }), T0)).to.equal('stale')
      expect(s.get('k', noClock)).to.equal(undefined)
    })

    it('a stale delete changes nothing', () => {
      const { s } = store()
      s.apply(write({ wall: 20, origin: 'a', seq: 1 }), T0)
      expect(s.apply(del({ wall: 19, origin: 'b', seq: 1 }), T0)).to.equal('stale')
      expect(s.get('k', noClock)).to.equal('a@20.0')
      expect(s.tombstones()).to.equal(0)
    })

    it('a newer write replaces the tombstone', () => {
      const { s } = store()
      s.apply(del({ wall: 20, origin: 'b', seq: 1 }), T0)
      expect(s.apply(write({ wall: 21, origin: 'a', seq: 1 }), T0)).to.equal('applied')
      expect(s.get('k', noClock)).to.equal('a@21.0')
      expect(s.tombstones()).to.equal(0)
    })

    it('a newer tombstone replaces an older one', () => {
      const { s } = store()
      s.apply(del({ wall: 20, origin: 'b', seq: 1 }), T0)
      expect(s.apply(del({ wall: 30, origin: 'a', seq: 1 }), T0 + 5000)).to.equal('applied')
      expect(s.peek('k')?.version.wall).to.equal(30)
      expect(s.tombstones()).to.equal(1)
      expect(s.purge(T0 + 10_000).tombstones).to.equal(0) // deadline restarted with the newer one
      expect(s.purge(T0 + 15_000).tombstones).to.equal(1)
    })

    it('purges a tombstone after deletionDelayMs; then a new write is accepted', () => {
      const { s } = store({ deletionDelayMs: 10_000 })
      const old = write({ wall: 10, origin: 'a', seq: 1 })
      s.apply(old, T0)
      s.apply(del({ wall: 20, origin: 'b', seq: 1 }), T0)
      expect(s.purge(T0 + 9_999)).to.deep.equal({ tombstones: 0, expired: 0 })
      expect(s.tombstones()).to.equal(1)
      expect(s.purge(T0 + 10_000)).to.deep.equal({ tombstones: 1, expired: 0 })
      expect(s.tombstones()).to.equal(0)
      expect(s.peek('k')).to.equal(undefined)
      // a replay of the old write is still recognised
      expect(s.apply(received(old), T0 + 10_001)).to.equal('duplicate')
      expect(s.apply(write({ wall: 30, origin: 'c', seq: 1 }), T0 + 10_001)).to.equal('applied')
      expect(s.get('k', noClock)).to.equal('c@30.0')
    })

    it('purges oldest tombstones first, at most maxScan per call', () => {
      const { s } = store({ deletionDelayMs: 100 })
      for (let i = 0; i < 10; i++) s.apply(del({ key: `k${i}`, wall: 1, origin: 'a', seq: i + 1 }), T0 + i)
      expect(s.purge(T0 + 104, 3).tombstones).to.equal(3)
      expect(s.purge(T0 + 104, 3).tombstones).to.equal(2) // k3, k4; k5 not due yet
      expect(s.peek('k5')?.tombstone).to.equal(true)
      expect(s.purge(T0 + 1000).tombstones).to.equal(5)
      expect(s.tombstones()).to.equal(0)
    })
  })

  describe('duplicates', () => {
    it('detects an (origin, seq) already seen, whatever its contents', () => {
      const { s } = store()
      expect(s.apply(write({ wall: 10, origin: 'a', seq: 1 }), T0)).to.equal('applied')
      expect(s.apply(write({ wall: 10, origin: 'a', seq: 1 }), T0)).to.equal('duplicate')
      expect(s.apply(write({ key: 'other', wall: 11, origin: 'a', seq: 1 }), T0)).to.equal('duplicate')
      expect(s.apply(write({ wall: 9, origin: 'b', seq: 1 }), T0)).to.equal('stale')
      expect(s.apply(write({ wall: 9, origin: 'b', seq: 1 }), T0)).to.equal('duplicate') // stale ones are seen too
      expect(s.stats).to.include({ applied: 1, stale: 1, duplicates: 3 })
    })

    it('an evicted key is not resurrected by a duplicate datagram', () => {
      const { s, evicted } = store({ maxKeys: 2 })
      const first = write({ key: 'x', wall: 1, origin: 'a', seq: 1 })
      s.apply(first, T0)
      s.apply(write({ key: 'y', wall: 2, origin: 'a', seq: 2 }), T0)
      s.apply(write({ key: 'z', wall: 3, origin: 'a', seq: 3 }), T0)
      expect(evicted).to.deep.equal([['x', 'capacity']])
      expect(s.apply(received(first), T0)).to.equal('duplicate')
      expect(s.get('x', noClock)).to.equal(undefined)
      expect(s.size()).to.equal(2)
    })

    it('nextSeq is one past the highest seen for that origin', () => {
      const { s } = store()
      expect(s.nextSeq('me')).to.equal(1)
      s.apply(write({ wall: 1, origin: 'me', seq: s.nextSeq('me') }), T0)
      s.apply(write({ key: 'j', wall: 2, origin: 'me', seq: s.nextSeq('me') }), T0)
      expect(s.nextSeq('me')).to.equal(3)
      s.markSeen('me', [[10, 12]])
      expect(s.nextSeq('me')).to.equal(13)
      expect(s.nextSeq('other')).to.equal(1)
    })
  })

  describe('TTL', () => {
    it('expires at the exact ms: a hit at expiresAt - 1, a miss at expiresAt', () => {
      const { s, evicted } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1, expiresAt: T0 + 500 }), T0)
      expect(s.get('k', at(T0 + 499))).to.equal('a@1.0')
      expect(s.has('k', at(T0 + 499))).to.equal(true)
      expect(s.get('k', at(T0 + 500))).to.equal(undefined)
      expect(s.size()).to.equal(0)
      expect(s.stats.expirations).to.equal(1)
      expect(evicted).to.deep.equal([['k', 'expired']])
      // Not a delete: a local expiry marker that keeps the expired version
      // (so an older write arriving late cannot come back), for deletionDelay.
      expect(s.peek('k')).to.include({ tombstone: true, seq: 1, expiresAt: T0 + 500 })
    })

    it('an expired write still beats an older write that arrives later (expiry marker)', () => {
      const { s } = store()
      s.apply(write({ wall: 5, origin: 'a', seq: 2, expiresAt: T0 + 500 }), T0)
      expect(s.get('k', at(T0 + 600))).to.equal(undefined)
      expect(s.apply(write({ wall: 1, origin: 'b', seq: 1 }), T0 + 700)).to.equal('stale')
      expect(s.get('k', at(T0 + 700))).to.equal(undefined)
    })

    it('has() also notices expiry', () => {
      const { s } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1, expiresAt: T0 + 500 }), T0)
      expect(s.has('k', at(T0 + 500))).to.equal(false)
      expect(s.peek('k')?.tombstone).to.equal(true)
    })

    it('does not call now() for keys without a TTL', () => {
      const { s } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1 }), T0)
      expect(s.get('k', noClock)).to.equal('a@1.0')
      expect(s.has('k', noClock)).to.equal(true)
      expect(s.get('missing', noClock)).to.equal(undefined)
    })

    it('an entry already expired on arrival is not stored, is marked seen, and removes what it supersedes', () => {
      const { s, evicted } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1 }), T0)
      const late = write({ wall: 2, origin: 'b', seq: 1, expiresAt: T0 - 1 })
      expect(s.apply(late, T0)).to.equal('expired')
      expect(s.get('k', noClock)).to.equal(undefined)
      expect(s.apply(received(late), T0)).to.equal('duplicate')
      expect(s.stats.expirations).to.equal(1)
      expect(evicted).to.deep.equal([['k', 'expired']])
    })

    it('a stale entry is stale even if it is also expired', () => {
      const { s } = store()
      s.apply(write({ wall: 5, origin: 'a', seq: 1 }), T0)
      expect(s.apply(write({ wall: 2, origin: 'b', seq: 1, expiresAt: T0 - 1 }), T0)).to.equal('stale')
      expect(s.get('k', noClock)).to.equal('a@5.0')
    })

    it('purge drops expired entries, resuming where it stopped', () => {
      const { s } = store()
      for (let i = 0; i < 10; i++) s.apply(write({ key: `t${i}`, wall: 1, origin: 'a', seq: i + 1, expiresAt: T0 + 100 }), T0)
      s.apply(write({ key: 'forever', wall: 1, origin: 'a', seq: 11 }), T0)
      expect(s.purge(T0 + 99)).to.deep.equal({ tombstones: 0, expired: 0 })
      expect(s.purge(T0 + 100, 4).expired).to.equal(4)
      expect(s.purge(T0 + 100, 4).expired).to.equal(4)
      expect(s.purge(T0 + 100, 4).expired).to.equal(2)
      expect(s.size()).to.equal(1)
      expect(s.stats.expirations).to.equal(10)
    })

    it('overwriting a TTL entry with a non-TTL one takes it out of the purge scan', () => {
      const { s } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1, expiresAt: T0 + 100 }), T0)
      s.apply(write({ wall: 2, origin: 'a', seq: 2 }), T0)
      expect(s.purge(T0 + 1000).expired).to.equal(0)
      expect(s.get('k', noClock)).to.equal('a@2.0')
    })
  })

  describe('eviction', () => {
    it('evicts the least recently used by maxKeys, reports it and makes no tombstone', () => {
      const { s, evicted } = store({ maxKeys: 3 })
      for (const [i, key] of ['a', 'b', 'c'].entries()) s.apply(write({ key, wall: 1, origin: 'o', seq: i + 1 }), T0)
      s.get('a', noClock) // a is now most recent; b is least
      s.apply(write({ key: 'd', wall: 1, origin: 'o', seq: 4 }), T0)
      expect(evicted).to.deep.equal([['b', 'capacity']])
      // a replicated write counts as use: c becomes most recent
      s.apply(write({ key: 'c', wall: 2, origin: 'p', seq: 1 }), T0)
      s.apply(write({ key: 'e', wall: 1, origin: 'o', seq: 5 }), T0)
      expect(evicted).to.deep.equal([['b', 'capacity'], ['a', 'capacity']])
      expect(s.stats.evictions).to.equal(2)
      expect(s.tombstones()).to.equal(0)
      expect(s.size()).to.equal(3)
      expect(s.get('b', noClock)).to.equal(undefined)
    })

    it('evicts by maxBytes using entrySize, and keeps bytes() exact', () => {
      const value = 'v'.repeat(100)
      const one = entrySize(write({ key: 'k0', value, wall: 1, origin: 'o', seq: 1 }))
      // a string value: its bytes and a string header; the key: a header and 2 bytes per char
      expect(one).to.equal(encodeValue(value).length + 16 + 16 + 4 + ENTRY_OVERHEAD_BYTES)
      const { s, evicted } = store({ maxKeys: 100, maxBytes: one * 3 })
      for (let i = 0; i < 5; i++) s.apply(write({ key: `k${i}`, value, wall: 1, origin: 'o', seq: i + 1 }), T0)
      expect(evicted).to.deep.equal([['k0', 'capacity'], ['k1', 'capacity']])
      expect(s.size()).to.equal(3)
      expect(s.bytes()).to.equal(one * 3)
      expect(s.stats.evictions).to.equal(2)
      expect(s.tombstones()).to.equal(0)
    })

    it('an entry larger than maxBytes on its own is accepted as a version but not stored', () => {
      const { s, evicted } = store({ maxBytes: 200 })
      s.apply(write({ value: 'small', wall: 1, origin: 'o', seq: 1 }), T0)
      expect(s.apply(write({ value: 'x'.repeat(500), wall: 2, origin: 'o', seq: 2 }), T0)).to.equal('applied')
      expect(s.get('k', noClock)).to.equal(undefined)
      expect(evicted).to.deep.equal([['k', 'capacity']])
      expect(s.bytes()).to.equal(0)
    })

    it('tracks bytes() through overwrites, deletes and expiry', () => {
      const { s } = store()
      const a = write({ key: 'a', value: 'x'.repeat(10), wall: 1, origin: 'o', seq: 1 })
      const a2 = write({ key: 'a', value: 'x'.repeat(50), wall: 2, origin: 'o', seq: 2 })
      const b = write({ key: 'b', value: 1, wall: 1, origin: 'o', seq: 3, expiresAt: T0 + 1 })
      s.apply(a, T0)
      s.apply(b, T0)
      expect(s.bytes()).to.equal(entrySize(a) + entrySize(b))
      s.apply(a2, T0)
      expect(s.bytes()).to.equal(entrySize(a2) + entrySize(b))
      s.get('b', at(T0 + 1))
      expect(s.bytes()).to.equal(entrySize(a2))
      s.apply(del({ key: 'a', wall: 3, origin: 'o', seq: 4 }), T0)
      expect(s.bytes()).to.equal(0)
    })
  })

  describe('values', () => {
    it('decodes a replicated value on first read and keeps the result', () => {
      const { s } = store()
      const e = write({ value: { n: [1, 2] }, wall: 1, origin: 'a', seq: 1, replicated: true })
      s.apply(e, T0)
      expect(s.peek('k')?.value).to.equal(NOT_DECODED)
      const first = s.get('k', noClock)
      expect(first).to.deep.equal({ n: [1, 2] })
      expect(s.get('k', noClock)).to.equal(first) // same object: decoded once
    })

    it('stores falsy values: null, false, 0, empty string', () => {
      const { s } = store()
      const values = [null, false, 0, '']
      values.forEach((value, i) => s.apply(write({ key: `f${i}`, value, wall: 1, origin: 'a', seq: i + 1 }), T0))
      values.forEach((value, i) => s.apply(write({ key: `r${i}`, value, wall: 1, origin: 'a', seq: i + 10, replicated: true }), T0))
      for (let round = 0; round < 2; round++) {
        values.forEach((value, i) => {
          expect(s.get(`f${i}`, noClock)).to.equal(value)
          expect(s.get(`r${i}`, noClock)).to.equal(value)
          expect(s.has(`r${i}`, noClock)).to.equal(true)
        })
      }
      expect(s.size()).to.equal(8)
    })

    it('a decoded replicated value with a TTL still expires', () => {
      const { s } = store()
      s.apply(write({ value: 'v', wall: 1, origin: 'a', seq: 1, expiresAt: T0 + 10, replicated: true }), T0)
      expect(s.get('k', at(T0 + 9))).to.equal('v')
      expect(s.get('k', at(T0 + 9))).to.equal('v')
      expect(s.get('k', at(T0 + 10))).to.equal(undefined)
    })

    it('decoding does not change recency order or byte accounting', () => {
      const { s, evicted } = store({ maxKeys: 2, maxBytes: 10_000 })
      const a = write({ key: 'a', wall: 1, origin: 'o', seq: 1, replicated: true })
      const b = write({ key: 'b', wall: 1, origin: 'o', seq: 2, replicated: true })
      s.apply(a, T0)
      s.apply(b, T0)
      const before = s.bytes()
      expect(s.get('a', noClock)).to.equal('o@1.0') // decoded; a is now most recent
      expect(s.bytes()).to.equal(before)
      s.apply(write({ key: 'c', wall: 1, origin: 'o', seq: 3 }), T0)
      expect(evicted).to.deep.equal([['b', 'capacity']])
      expect(s.bytes()).to.equal(entrySize(a) + entrySize(s.peek('c')!))
    })

    it('drops an entry whose bytes do not decode, and counts it', () => {
      const { s } = store()
      const e: Entry = { ...write({ wall: 1, origin: 'a', seq: 1 }), bytes: Buffer.from([0xc1]), value: NOT_DECODED }
      s.apply(e, T0)
      expect(s.get('k', noClock)).to.equal(undefined)
      expect(s.stats.decodeErrors).to.equal(1)
      expect(s.size()).to.equal(0)
    })
  })

  describe('layout (slots)', () => {
    it('keeps a replicated scalar decoded from arrival, and an object as bytes until it is read', () => {
      const { s } = store()
      s.apply(write({ key: 's', value: 'text', wall: 1, origin: 'a', seq: 1, replicated: true }), T0)
      s.apply(write({ key: 'o', value: { n: 1 }, wall: 1, origin: 'a', seq: 2, replicated: true }), T0)
      expect(s.peek('s')?.value).to.equal('text')
      expect(s.peek('o')?.value).to.equal(NOT_DECODED)
      expect(s.peek('s')?.bytes).to.deep.equal(encodeValue('text')) // made again for a peer
    })

    it('sends an object value as written, whatever a reader did to the object get returned', () => {
      const { s } = store()
      s.apply(write({ key: 'o', value: { n: [1, 2] }, wall: 1, origin: 'a', seq: 1, replicated: true }), T0)
      const got = s.get('o', noClock) as { n: number[] }
      got.n.push(3)
      const [sent] = s.entriesMissingFrom(new Map())
      expect(sent!.bytes).to.deep.equal(encodeValue({ n: [1, 2] }))
    })

    it('follows a key from TTL to no TTL and back: reads, expiry and remainingTtl use the latest write', () => {
      const { s } = store()
      s.apply(write({ value: 'a', wall: 1, origin: 'o', seq: 1, expiresAt: T0 + 10 }), T0)
      s.apply(write({ value: 'b', wall: 2, origin: 'o', seq: 2 }), T0)
      expect(s.get('k', at(T0 + 20))).to.equal('b')
      expect(s.purge(T0 + 20).expired).to.equal(0) // the old expiry is not current
      expect(s.remainingTtl('k', T0 + 20)).to.equal(Infinity)
      s.apply(write({ value: 'c', wall: 3, origin: 'o', seq: 3, expiresAt: T0 + 50 }), T0)
      expect(s.remainingTtl('k', T0 + 20)).to.equal(30)
      expect(s.get('k', at(T0 + 49))).to.equal('c')
      expect(s.get('k', at(T0 + 50))).to.equal(undefined)
      expect(s.size()).to.equal(0)
    })

    it('names the right origin after a retired origin\'s number is reused', () => {
      const { s } = store({ deletionDelayMs: 0 })
      s.apply(write({ key: 'x', value: 1, wall: 1, origin: 'old', seq: 1 }), T0)
      s.apply(del({ key: 'x', wall: 2, origin: 'old', seq: 2 }), T0)
      s.purge(T0 + 1)
      expect(s.retireOrigins(T0 + 10, 1, new Set())).to.equal(1)
      s.apply(write({ key: 'y', value: 2, wall: 3, origin: 'new', seq: 1 }), T0 + 10)
      expect(s.peek('y')?.version.origin).to.equal('new')
      expect(s.entriesMissingFrom(new Map()).map((e) => e.version.origin)).to.deep.equal(['new'])
    })
  })

  describe('entriesMissingFrom', () => {
    function populated(): VersionedStore {
      const { s } = store()
      for (let i = 1; i <= 5; i++) s.apply(write({ key: `a${i}`, wall: i, origin: 'a', seq: i }), T0)
      for (let i = 1; i <= 3; i++) s.apply(write({ key: `b${i}`, wall: i, origin: 'b', seq: i }), T0)
      s.apply(del({ key: 'a1', wall: 10, origin: 'b', seq: 4 }), T0)
      return s
    }
    const keys = (es: Iterable<Entry>): string[] => [...es].map((e) => `${e.key}${e.tombstone ? '†' : ''}`).sort()

    it('gives everything (live and tombstones) to an empty peer', () => {
      const s = populated()
      expect(keys(s.entriesMissingFrom(new Map()))).to.deep.equal(['a1†', 'a2', 'a3', 'a4', 'a5', 'b1', 'b2', 'b3'])
    })

    it('gives nothing to an in-sync peer, without scanning', () => {
      const s = populated()
      const peer = new Map([...s.seen()].map(([o, r]) => [o, SeqRanges.fromRanges(r.ranges())]))
      expect(s.entriesMissingFrom(peer)).to.deep.equal([])
      expect(s.stats.missingScans).to.equal(0)
      // a peer that has seen more than we have is in sync too
      peer.get('a')!.addRange(6, 100)
      peer.set('z', SeqRanges.fromRanges([[1, 9]]))
      expect(s.entriesMissingFrom(peer)).to.deep.equal([])
      expect(s.stats.missingScans).to.equal(0)
    })

    it('gives a partially behind peer just what it lacks', () => {
      const s = populated()
      const peer = new Map([
        ['a', SeqRanges.fromRanges([[1, 2], [4, 4]])], // lacks a3 (seq 3) and a5 (seq 5)
        ['b', SeqRanges.fromRanges([[1, 3]])] // lacks the tombstone (seq 4)
      ])
      expect(keys(s.entriesMissingFrom(peer))).to.deep.equal(['a1†', 'a3', 'a5'])
      expect(s.stats.missingScans).to.equal(1)
    })

    it('skips superseded writes: their sequence numbers travel via markSeen', () => {
      const { s } = store()
      s.apply(write({ wall: 1, origin: 'a', seq: 1 }), T0)
      s.apply(write({ wall: 2, origin: 'a', seq: 2 }), T0)
      const other = store().s
      for (const e of s.entriesMissingFrom(other.seen())) other.apply(received(e), T0)
      for (const [origin, r] of s.seen()) other.markSeen(origin, r.ranges())
      expect(other.get('k', noClock)).to.equal('a@2.0')
      expect(s.entriesMissingFrom(other.seen())).to.deep.equal([])
      expect(other.entriesMissingFrom(s.seen())).to.deep.equal([])
    })

    it('returns a snapshot that later writes do not disturb', () => {
      const s = populated()
      const out = s.entriesMissingFrom(new Map())
      s.apply(write({ key: 'new', wall: 50, origin: 'c', seq: 1 }), T0)
      expect(out).to.have.length(8)
    })
  })

  it('clear() forgets entries, tombstones and seen ranges', () => {
    const { s } = store()
    s.apply(write({ wall: 1, origin: 'a', seq: 1, expiresAt: T0 + 5 }), T0)
    s.apply(del({ key: 'd', wall: 1, origin: 'a', seq: 2 }), T0)
    s.clear()
    expect([s.size(), s.tombstones(), s.bytes(), s.seen().size]).to.deep.equal([0, 0, 0, 0])
    expect(s.purge(T0 + 100)).to.deep.equal({ tombstones: 0, expired: 0 })
  })

  it('rejects bad settings with RangeError naming the option', () => {
    const base = { maxKeys: 10, deletionDelayMs: 0 }
    expect(() => new VersionedStore({ ...base, maxKeys: 0 })).to.throw(RangeError, /maxKeys/)
    expect(() => new VersionedStore({ ...base, maxKeys: 1.5 })).to.throw(RangeError, /maxKeys/)
    expect(() => new VersionedStore({ ...base, maxBytes: -1 })).to.throw(RangeError, /maxBytes/)
    expect(() => new VersionedStore({ ...base, deletionDelayMs: NaN })).to.throw(RangeError, /deletionDelayMs/)
  })

  it('rejects an entry whose seq is not a positive integer', () => {
    const { s } = store()
    expect(() => s.apply(write({ wall: 1, origin: 'a', seq: 0 }), T0)).to.throw(RangeError)
  })
})
