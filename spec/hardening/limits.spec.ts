/**
 * The limits that bound memory under abuse, each with its counted drop:
 * maxMembers, the anti-entropy stream queue, maxSyncs, maxValueBytes for
 * remote values, maxKeyBytes.
 */
import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { FrameQueue } from '../../lib/transport/frame-queue.js'
import { encodeBatch, encodeDelta } from '../../lib/replication/delta.js'
import { encodeDigest } from '../../lib/replication/seen-vector.js'
import { seededRandom } from '../../lib/random.js'
import { MemoryNetwork } from '../../lib/transport/memory-network.js'
import { buildPacket, encodeFrame, encodeMessage, encodeUser } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { flush } from '../support/virtual-time.js'

describe('hardening: limits', function () {
  this.timeout(60_000)

  it('maxMembers: alive messages about new members beyond it are ignored and counted', async () => {
    const c = new CacheCluster(41, { maxMembers: 5 })
    const [n0] = await c.start(2)
    const outsider = c.net.bind('10.66.0.1:7946')
    const alive = (i: number): Buffer => encodeMessage({ type: MsgType.Alive, incarnation: 1, nodeId: `fake-${i}`, addr: `10.70.0.${i}:7946` })
    for (let i = 0; i < 20; i++) outsider.sendPacket(n0!.address, buildPacket([alive(2 * i), alive(2 * i + 1)]))
    await c.run(50)
    expect(n0!.members()).to.have.length(5)
    expect(n0!.stats().dropped['max-members']).to.equal(37)
    await c.closeAll()
  })

  it('FrameQueue: more than maxBytes queued unread destroys the stream, once', async () => {
    const clock = new ManualClock()
    const net = new MemoryNetwork({ clock, random: seededRandom(1) })
    const a = net.bind()
    const b = net.bind()
    let queue: FrameQueue | undefined
    let overflows = 0
    b.onStream((conn) => { queue = new FrameQueue(conn, clock, { maxBytes: 10_000, onOverflow: () => overflows++ }) })
    const dial = a.dialStream(b.address, 1000)
    clock.advance(1)
    await flush()
    const conn = await dial
    for (let i = 0; i < 30; i++) conn.send(Buffer.alloc(1000))
    clock.advance(5)
    await flush()
    expect(overflows).to.equal(1)
    expect(conn.closed).to.equal(true)
    let err: Error | undefined
    await queue!.next(100).catch((e: Error) => { err = e })
    expect(err?.message).to.match(/bytes queued unread/)
  })

  it('maxSyncs: anti-entropy rounds beyond it are refused and counted', async () => {
    const c = new CacheCluster(42, { maxSyncs: 1, tuning: { antiEntropyIntervalMs: 0 } })
    const [n0] = await c.start(1)
    const outsider = c.net.bind('10.66.0.1:7946')
    const digest = encodeFrame({ type: MsgType.UserStream, tag: 1, payload: encodeDigest(new Map(), 1 << 20) })
    for (let i = 0; i < 4; i++) {
      const conn = await c.settle(outsider.dialStream(n0!.address, 1000))
      conn.onFrame(() => {}) // reads the entries, never finishes the round
      conn.send(digest)
    }
    await c.run(20)
    expect(n0!.stats().dropped['anti-entropy-busy']).to.equal(3)
    await c.closeAll()
  })

  it('maxValueBytes also bounds values arriving from peers', async () => {
    const c = new CacheCluster(43, { maxValueBytes: 100 })
    const [n0] = await c.start(1)
    const outsider = c.net.bind('10.66.0.1:7946')
    const v = { wall: Date.now(), counter: 0, origin: 'o1' }
    outsider.sendPacket(n0!.address, buildPacket([encodeUser(encodeDelta('big', Buffer.alloc(500, 0xa0), v, 1, 0))]))
    outsider.sendPacket(n0!.address, buildPacket([encodeUser(encodeDelta('small', Buffer.from([0xa1, 0x78]), v, 2, 0))]))
    const conn = await c.settle(outsider.dialStream(n0!.address, 1000))
    conn.send(encodeFrame({ type: MsgType.UserStream, tag: 2, payload: encodeBatch([encodeDelta('big2', Buffer.alloc(5000, 0xa0), v, 3, 0)]) }))
    await c.run(50)
    expect(n0!.get('big')).to.equal(undefined)
    expect(n0!.get('big2')).to.equal(undefined)
    expect(n0!.get('small')).to.equal('x')
    expect(n0!.stats().dropped['value-too-large']).to.equal(2)
    await c.closeAll()
  })

  it('maxKeyBytes bounds keys of set, delete and getWithFiller', async () => {
    const c = new CacheCluster(44, { maxKeyBytes: 8 })
    const [n0] = await c.start(1)
    n0!.set('12345678', 1)
    expect(() => n0!.set('123456789', 1)).to.throw(RangeError, /maxKeyBytes/)
    expect(() => n0!.delete('ééééé')).to.throw(RangeError, /maxKeyBytes/)
    await c.closeAll()
  })

  it('a keyless node names encrypted datagrams clearly (encrypted-without-key), not as a flags error', async () => {
    const c = new CacheCluster(45)
    const [n0] = await c.start(1)
    const outsider = c.net.bind('10.66.0.1:7946')
    const sealed = Buffer.concat([Buffer.from([0xbc, 0xac, 1, 1]), Buffer.alloc(40, 7)])
    outsider.sendPacket(n0!.address, sealed)
    await c.run(10)
    expect(n0!.stats().dropped).to.include({ 'encrypted-without-key': 1 })
    expect(n0!.stats().dropped['flags'] ?? 0).to.equal(0)
    await c.closeAll()
  })
})
