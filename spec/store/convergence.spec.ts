/**
 * Property tests: stores that see the same writes, in any order and with
 * duplicates, end identical (invariant 2); stores that each lost some writes
 * end identical after exchanging what the other is missing (invariant 4).
 */
import { expect } from 'chai'
import { seededRandom, shuffle, type Random } from '../../lib/random.js'
import { HybridClock } from '../../lib/store/version.js'
import { encodeValue, VersionedStore, type Entry } from '../../lib/store/versioned-store.js'
import { received } from './store-fixtures.js'

const T0 = 1_700_000_000_000
const ORIGINS = ['n1', 'n2', 'n3']
const KEYS = ['a', 'b', 'c', 'd', 'e']

/** Random writes and deletes from 3 origins, each with its own skewed clock. */
function history(random: Random, ops: number): Entry[] {
  const time = { now: T0 }
  const clocks = ORIGINS.map((_, i) => new HybridClock(() => time.now + (i - 1) * 3 + Math.floor(random() * 4)))
  const seqs = ORIGINS.map(() => 0)
  const out: Entry[] = []
  for (let i = 0; i < ops; i++) {
    time.now += Math.floor(random() * 3) // often the same ms: counters and origin ties matter
    const o = Math.floor(random() * ORIGINS.length)
    const { wall, counter } = clocks[o]!.tick()
    const key = KEYS[Math.floor(random() * KEYS.length)]!
    const tombstone = random() < 0.25
    const value = tombstone ? undefined : { i, from: ORIGINS[o] }
    out.push({
      key,
      bytes: tombstone ? Buffer.alloc(0) : encodeValue(value),
      value,
      version: { wall, counter, origin: ORIGINS[o]! },
      seq: ++seqs[o]!,
      expiresAt: random() < 0.2 ? T0 + 10_000_000 : 0,
      tombstone
    })
  }
  return out
}

/** The store's content: per key, the entry that won (live or tombstone), and the seen ranges. */
function snapshot(s: VersionedStore): unknown {
  const keys: Record<string, unknown> = {}
  for (const key of KEYS) {
    const e = s.peek(key)
    keys[key] = e === undefined ? null : { v: e.version, seq: e.seq, t: e.tombstone, b: e.bytes.toString('hex'), x: e.expiresAt }
  }
  const seen: Record<string, unknown> = {}
  for (const [o, r] of s.seen()) seen[o] = r.ranges().map(([a, b]) => [a, b])
  return { keys, seen, values: KEYS.map((k) => s.get(k, () => T0)) }
}

const newStore = (): VersionedStore => new VersionedStore({ maxKeys: 100, deletionDelayMs: 60_000 })

describe('store convergence (property)', () => {
  it('3 stores, 3 random delivery orders with duplicates, identical content', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const random = seededRandom(seed)
      const writes = history(random, 10 + Math.floor(random() * 40))
      const snapshots = [0, 1, 2].map(() => {
        const delivery = [...writes, ...writes.filter(() => random() < 0.3)]
        shuffle(delivery, random)
        const s = newStore()
        for (const e of delivery) s.apply(received(e), T0)
        expect(s.stats.duplicates, `seed ${seed}`).to.equal(delivery.length - writes.length)
        return snapshot(s)
      })
      expect(snapshots[1], `seed ${seed}`).to.deep.equal(snapshots[0])
      expect(snapshots[2], `seed ${seed}`).to.deep.equal(snapshots[0])
    }
  })

  it('matches a reference: the greatest version per key wins', () => {
    for (let seed = 100; seed < 120; seed++) {
      const random = seededRandom(seed)
      const writes = history(random, 30)
      const s = newStore()
      for (const e of shuffle(writes.slice(), random)) s.apply(received(e), T0)
      for (const key of KEYS) {
        const mine = writes.filter((w) => w.key === key)
        const want = mine.reduce<Entry | undefined>((best, w) => {
          if (best === undefined) return w
          const [a, b] = [w.version, best.version]
          const newer = a.wall !== b.wall ? a.wall > b.wall : a.counter !== b.counter ? a.counter > b.counter : a.origin > b.origin
          return newer ? w : best
        }, undefined)
        expect(s.peek(key)?.version, `seed ${seed} key ${key}`).to.deep.equal(want?.version)
      }
    }
  })

  it('lossy delivery, then a pairwise exchange of what is missing, converges', () => {
    for (let seed = 200; seed < 230; seed++) {
      const random = seededRandom(seed)
      const writes = history(random, 40)
      const delivered = new Set<Entry>()
      const stores = [0, 1, 2].map(() => {
        const s = newStore()
        for (const e of shuffle(writes.filter(() => random() < 0.6), random)) {
          delivered.add(e)
          s.apply(received(e), T0)
        }
        return s
      })
      // each ordered pair once: src sends what dst lacks, dst adopts src's coverage
      for (let round = 0; round < 2; round++) {
        for (const [src, dst] of [[0, 1], [1, 2], [2, 0], [1, 0], [2, 1], [0, 2]] as const) {
          const from = stores[src]!
          const to = stores[dst]!
          for (const e of from.entriesMissingFrom(to.seen())) to.apply(received(e), T0)
          for (const [origin, r] of from.seen()) to.markSeen(origin, r.ranges())
        }
      }
      const [s0, s1, s2] = stores.map(snapshot)
      expect(s1, `seed ${seed}`).to.deep.equal(s0)
      expect(s2, `seed ${seed}`).to.deep.equal(s0)
      // and they agree with a store that saw every write some store received
      const full = newStore()
      for (const e of delivered) full.apply(received(e), T0)
      expect((snapshot(full) as { keys: unknown }).keys).to.deep.equal((s0 as { keys: unknown }).keys)
      // in sync now: a further round costs no scan
      const scans = stores.map((s) => s.stats.missingScans)
      for (const a of stores) for (const b of stores) if (a !== b) expect(a.entriesMissingFrom(b.seen())).to.deep.equal([])
      expect(stores.map((s) => s.stats.missingScans)).to.deep.equal(scans)
    }
  })
})
