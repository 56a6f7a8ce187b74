/**
 * End-to-end fuzz: random and mutated datagrams and stream frames thrown at
 * a live node on the in-memory network, by an outsider bound on it. The
 * node must not throw (no `handler-error`), must not change state (members,
 * keys, values, tombstones) and must count every refused datagram. In the
 * keyless cluster only inputs that are invalid are sent (a valid message is
 * accepted there by design); in the keyed cluster everything mutated is.
 */
import { expect } from 'chai'
import { seededRandom, type Random } from '../../lib/random.js'
import { decodeBatch, decodeDelta, encodeBatch, encodeDelta } from '../../lib/replication/delta.js'
import { encodeDigest } from '../../lib/replication/seen-vector.js'
import { NonceSequence, sealEnvelope } from '../../lib/transport/envelope.js'
import { buildPacket, decodeFrame, decodePacket, encodeFrame, encodeMessage, encodeUser } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import type { Bcache } from '../../lib/bcache.js'
import { packetSamples, streamSamples } from '../wire/wire-fixtures.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { mutate, randomBytes, randomMsgpackish } from './fuzz-targets.js'

const DATAGRAMS = 3_000
const STREAMS = 150
const KEY = Buffer.alloc(32, 9)
const LABEL = Buffer.from('fz')

function snapshot(n: Bcache<unknown>): string {
  const s = n.stats()
  return JSON.stringify({
    members: n.members().sort((a, b) => a.nodeId.localeCompare(b.nodeId)),
    keys: s.keys, tombstones: s.tombstones, k1: n.get('k1'), k2: n.get('k2'), k3: n.has('k3')
  })
}

const dropTotal = (n: Bcache<unknown>): number => Object.values(n.stats().dropped).reduce((a, b) => a + b, 0)

/** True when a keyless node must refuse `d` (so it can only be dropped, never applied). */
function invalidDatagram(d: Buffer): boolean {
  try {
    const msgs = decodePacket(d)
    return msgs.every((m) => {
      if (m.type !== MsgType.User) return false
      try { decodeDelta(m.payload); return false } catch { return true }
    })
  } catch {
    return true
  }
}

function invalidFirstFrame(f: Buffer): boolean {
  try {
    const m = decodeFrame(f)
    if (m.type !== MsgType.UserStream || m.tag !== 2) return false
    try { decodeBatch(m.payload); return false } catch { return true }
  } catch {
    return true
  }
}

describe('hardening: a live node under fuzz', function () {
  this.timeout(60_000)

  for (const secure of [false, true]) {
    it(`${secure ? 'keyed and labelled' : 'keyless'} cluster: ${DATAGRAMS} datagrams and ${STREAMS} streams change nothing and are counted`, async () => {
      const c = new CacheCluster(31, secure ? { secretKeys: [KEY], label: 'fz' } : {})
      const nodes = await c.start(2)
      const target = nodes[0]!
      target.set('k1', 'v1')
      target.set('k2', { a: [1, 2] })
      target.delete('k3')
      await c.run(500)
      const before = snapshot(target)
      const dropsBefore = dropTotal(target)
      const random: Random = seededRandom(secure ? 77 : 78)
      const v = { wall: Date.UTC(2030, 0), counter: 0, origin: 'evil00000000' }
      const delta = encodeDelta('k1', Buffer.from([0xa3, 0x65, 0x76, 0x6c]), v, 1, 0)
      const plainPackets = [
        ...packetSamples.map((m) => buildPacket([encodeMessage(m)])),
        buildPacket([encodeUser(delta)]),
        buildPacket([encodeMessage({ type: MsgType.Dead, incarnation: 2 ** 40, nodeId: target.nodeId, fromId: 'n1' })])
      ]
      const plainFrames = [
        ...streamSamples.map(encodeFrame).filter((f) => f.length < 2000),
        encodeFrame({ type: MsgType.UserStream, tag: 2, payload: encodeBatch([delta]) }),
        encodeFrame({ type: MsgType.UserStream, tag: 1, payload: encodeDigest(new Map(), 1 << 20) })
      ]
      const nonces = new NonceSequence()
      const packets = secure ? plainPackets.map((p) => sealEnvelope(p.subarray(4), 1, LABEL, KEY, nonces)) : plainPackets
      const frames = secure ? plainFrames.map((f) => sealEnvelope(f, 1, LABEL, KEY, nonces)) : plainFrames
      const originals = new Set([...packets, ...frames].map((b) => b.toString('hex')))
      const fresh = (b: Buffer): boolean => !originals.has(b.toString('hex')) // an unchanged capture is a replay: valid by design

      const outsider = c.net.bind('10.66.0.1:7946')
      outsider.onPacket(() => {})
      outsider.onStream((conn) => conn.destroy())
      let sent = 0
      while (sent < DATAGRAMS) {
        const r = random()
        const d = r < 0.15 ? randomBytes(random, 80)
          : r < 0.3 ? Buffer.concat([packets[0]!.subarray(0, 4), randomMsgpackish(random, 80)])
            : mutate(random, packets[Math.floor(random() * packets.length)]!)
        if (!fresh(d) || (!secure && !invalidDatagram(d))) continue
        outsider.sendPacket(target.address, d)
        if (++sent % 100 === 0) await c.run(5)
      }
      await c.run(50)
      expect(dropTotal(target) - dropsBefore, 'every datagram counted').to.be.at.least(DATAGRAMS)

      let streams = 0
      while (streams < STREAMS) {
        const first = random() < 0.2 ? randomBytes(random, 60) : mutate(random, frames[Math.floor(random() * frames.length)]!)
        if (!fresh(first) || (!secure && !invalidFirstFrame(first))) continue
        const conn = await c.settle(outsider.dialStream(target.address, 1000))
        conn.onFrame(() => {})
        conn.send(first)
        conn.send(Buffer.concat([Buffer.from([2 + Math.floor(random() * 200)]), randomBytes(random, 40)]))
        await c.run(5)
        conn.destroy()
        streams++
      }
      await c.run(15_000) // every stream timeout and suspicion timer has fired
      expect(snapshot(target)).to.equal(before)
      expect(target.stats().dropped['handler-error'] ?? 0).to.equal(0)
      expect(target.stats().membership.dropped['handler-error'] ?? 0).to.equal(0)
      if (secure) {
        const d = target.stats().dropped
        expect((d['decrypt-failed'] ?? 0) + (d['stream-decrypt-failed'] ?? 0), JSON.stringify(d)).to.be.greaterThan(100)
      }
      await c.closeAll()
    })
  }
})
