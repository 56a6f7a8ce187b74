import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { initiateRound, respondRound, type AntiEntropyContext } from '../../lib/replication/anti-entropy.js'
import { decodeBatch } from '../../lib/replication/delta.js'
import { decodeDigest, encodeDigest } from '../../lib/replication/seen-vector.js'
import { NOT_DECODED, VersionedStore } from '../../lib/store/versioned-store.js'
import { FakeStream, fakePair } from '../support/fake-stream.js'
import { write } from '../store/store-fixtures.js'

const FRAME_END = 1

function context(store: VersionedStore, clock: ManualClock, batchBytes?: number): AntiEntropyContext {
  return {
    store,
    clock,
    timeoutMs: 5_000,
    ...(batchBytes === undefined ? {} : { batchBytes }),
    stats: { rounds: 0, failed: 0, bytesOut: 0, bytesIn: 0, entriesOut: 0, entriesIn: 0, applied: 0, inSync: 0, tooLargeForPeer: 0 },
    maxValueBytes: 1 << 20,
    applyBatch: (frame, start) => {
      const deltas = decodeBatch(frame, start)
      for (const d of deltas) {
        const tombstone = d.bytes === undefined
        store.apply({
          key: d.key, bytes: tombstone ? Buffer.alloc(0) : Buffer.from(d.bytes!), value: tombstone ? undefined : NOT_DECODED,
          version: d.version, seq: d.seq, expiresAt: d.expiresAt, tombstone
        }, clock.now())
      }
      return deltas.length
    }
  }
}

const newStore = (): VersionedStore => new VersionedStore({ maxKeys: 1000, deletionDelayMs: 60_000 })

/** Lets microtasks (fake-stream deliveries, awaits) run. */
async function ticks(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await Promise.resolve()
}

describe('anti-entropy rounds (fake streams)', () => {
  it('the initiator adopts the coverage of an origin the responder vouches for, not of a lossy one', async () => {
    const clock = new ManualClock()
    const initiator = newStore()
    const responder = newStore()
    // X: the responder holds seqs 1–3 and refused seq 4 for its size (lossy).
    for (let s = 1; s <= 3; s++) responder.apply(write({ key: `x${s}`, wall: s, origin: 'X', seq: s }), clock.now())
    responder.refuse('X', 4, clock.now())
    // Y: the responder covers 1–10 (superseded or adopted), and vouches for it.
    responder.markSeen('Y', [[1, 10]], clock.now())
    expect(responder.coverage().get('X')!.lossy).to.equal(true)

    const rc = context(responder, clock)
    let served: Promise<void> | undefined
    await initiateRound(context(initiator, clock), async (digest) => {
      const [ci, cr] = fakePair()
      served = respondRound(rc, cr, digest)
      return ci
    })
    await served

    const x = initiator.coverage().get('X')!
    expect([1, 2, 3].every((s) => x.ranges.has(s)), 'X 1–3 arrived as entries').to.equal(true)
    expect(x.ranges.has(4), 'X 4 is not adopted: the responder evicted or refused it').to.equal(false)
    const y = initiator.coverage().get('Y')
    expect(y?.ranges.ranges(), 'Y adopted (a mutant that never adopts fails here)').to.deep.equal([[1, 10]])
  })

  it('the responder vouches for its lossy origin neither in its END digest nor after it', async () => {
    const clock = new ManualClock()
    const responder = newStore()
    responder.refuse('X', 1, clock.now())
    const [ci, cr] = fakePair()
    const served = respondRound(context(responder, clock), cr, encodeDigest(newStore().coverage(), 1 << 20))
    await ticks()
    const end = cr.sent.at(-1)!
    expect(end[0]).to.equal(FRAME_END)
    expect(decodeDigest(end.subarray(1)).seen.get('X')!.lossy).to.equal(true)
    ci.send(Buffer.from([FRAME_END]))
    await served
  })

  it("the responder's END digest is the snapshot from before its scan: a write applied while it waits to drain is not covered", async () => {
    const clock = new ManualClock()
    const responder = newStore()
    for (let s = 1; s <= 3; s++) responder.apply(write({ key: `k${s}`, wall: s, origin: 'R', seq: s }), clock.now())
    const conn = new FakeStream('fake:r')
    conn.congested = true
    // batchBytes 1: one entry per frame, so the first send already waits.
    const served = respondRound(context(responder, clock, 1), conn, encodeDigest(newStore().coverage(), 1 << 20))
    await ticks()
    expect(conn.drainCalls, 'waiting for drain').to.be.greaterThan(0)
    expect(conn.sent.some((f) => f[0] === FRAME_END), 'END not sent yet').to.equal(false)

    responder.apply(write({ key: 'late', wall: 10, origin: 'R', seq: 4 }), clock.now())
    conn.releaseDrain()
    await ticks()
    const end = conn.sent.find((f) => f[0] === FRAME_END)
    expect(end, 'END sent').to.not.equal(undefined)
    const digest = decodeDigest(end!.subarray(1)).seen
    const r = digest.get('R')!.ranges
    expect([1, 2, 3].every((s) => r.has(s))).to.equal(true)
    expect(r.has(4), 'the late write was not in the batches, so END must not cover it').to.equal(false)

    conn.deliver(Buffer.from([FRAME_END]))
    await served
  })
})
