/**
 * Acknowledged writes (`setAcked`, lib/replication/acked-writes.ts): how many
 * nodes hold a write before it resolves, and every way it rejects, on the
 * in-memory network with a manual clock.
 */
import { expect } from 'chai'
import type { Bcache } from '../../lib/bcache.js'
import { AckError, ClosedError } from '../../lib/errors.js'
import { acksNeeded } from '../../lib/replication/acked-writes.js'
import { encodeDelta } from '../../lib/replication/delta.js'
import { packValue } from '../../lib/store/versioned-store.js'
import { buildPacket, encodeFrame, encodeUser } from '../../lib/wire/codec.js'
import { MsgType } from '../../lib/wire/messages.js'
import type { StreamConn } from '../../lib/transport/transport.js'
import { StreamTag } from '../../lib/wire/stream-tags.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'

type Outcome = 'resolved' | Error

function outcome(p: Promise<void>): Promise<Outcome> {
  return p.then(() => 'resolved' as const, (e: Error) => e)
}

function pendingAcks(node: Bcache<unknown>): number {
  return (node as unknown as { p: { replicator: { pendingAcks(): number } } }).p.replicator.pendingAcks()
}

describe('Acknowledged writes (setAcked)', () => {
  let cluster: CacheCluster | undefined

  afterEach(async () => {
    await cluster?.closeAll()
    cluster = undefined
  })

  it('acksNeeded: all = N, majority = floor(N/2)+1, a number as is', () => {
    const rows: Array<[Parameters<typeof acksNeeded>[0], number, number]> = [
      ['all', 1, 1], ['all', 5, 5], ['majority', 1, 1], ['majority', 2, 2], ['majority', 3, 2],
      ['majority', 4, 3], ['majority', 5, 3], [1, 5, 1], [4, 5, 4], [7, 5, 7]
    ]
    for (const [target, live, needed] of rows) expect(acksNeeded(target, live), `${String(target)} of ${live}`).to.equal(needed)
  })

  it("'majority' on 5 nodes resolves, and the write is held by every node", async () => {
    cluster = new CacheCluster(301)
    const nodes = await cluster.start(5)
    const r = await cluster.settle(outcome(nodes[0]!.setAcked('k', { v: 1 }, { acks: 'majority' })), 1000)
    expect(r).to.equal('resolved')
    expect(nodes[0]!.get('k')).to.deep.equal({ v: 1 })
    await cluster.run(50)
    for (const n of nodes) expect(n.get('k'), n.nodeId).to.deep.equal({ v: 1 })
    expect(pendingAcks(nodes[0]!)).to.equal(0)
    expect(nodes[0]!.stats().replication.acks).to.deep.equal({ requested: 1, resolved: 1, rejected: 0 })
  })

  it("acks 1 resolves at once (local only); 'all' in a one-node cluster too", async () => {
    cluster = new CacheCluster(302)
    const [a] = await cluster.start(1)
    let done = false
    void a!.setAcked('k', 1, { acks: 'all' }).then(() => { done = true })
    await Promise.resolve()
    await Promise.resolve()
    expect(done).to.equal(true)
    await a!.setAcked('k', 2, { acks: 1 })
    expect(a!.get('k')).to.equal(2)
  })

  it("'all' with one peer partitioned rejects after timeoutMs with acked 4 / needed 5; the write stays local and reaches the peer after healing", async () => {
    cluster = new CacheCluster(303)
    const nodes = await cluster.start(5)
    const cut = nodes[4]!
    cluster.net.partition(nodes.slice(0, 4).map((n) => n.address), [cut.address])
    const t0 = cluster.clock.now()
    const r = await cluster.settle(outcome(nodes[0]!.setAcked('k', 'v', { acks: 'all', timeoutMs: 300 })), 2000, 1)
    const took = cluster.clock.now() - t0
    expect(r).to.be.instanceOf(AckError)
    const err = r as AckError
    expect(err.code).to.equal('BCACHE_ERR_ACKS')
    expect(err.reason).to.equal('timeout')
    expect([err.acked, err.needed]).to.deep.equal([4, 5])
    expect(took).to.be.within(300, 302)
    expect(nodes[0]!.get('k')).to.equal('v')
    expect(cut.get('k')).to.equal(undefined)
    expect(pendingAcks(nodes[0]!)).to.equal(0)
    expect(nodes[0]!.stats().replication.acks).to.deep.equal({ requested: 1, resolved: 0, rejected: 1 })
    cluster.net.heal()
    expect(await cluster.until(() => cut.get('k') === 'v', 60_000)).to.be.at.least(0)
  })

  it('acks above the live members rejects at once (too-few-members); the write is still applied', async () => {
    cluster = new CacheCluster(304)
    const [a] = await cluster.start(2)
    const t0 = cluster.clock.now()
    const r = await outcome(a!.setAcked('k', 1, { acks: 3 }))
    expect(cluster.clock.now()).to.equal(t0)
    expect(r).to.be.instanceOf(AckError)
    expect((r as AckError).reason).to.equal('too-few-members')
    expect([(r as AckError).acked, (r as AckError).needed]).to.deep.equal([1, 3])
    expect(a!.get('k')).to.equal(1)
  })

  it('a peer whose maxValueBytes refuses the value is no ack: all rejects (unreachable) before the timeout, majority of 3 resolves', async () => {
    cluster = new CacheCluster(305)
    const a = await addClusterNode(cluster, { nodeId: 'a' }, { seed: 1 })
    await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2 })
    const small = await addClusterNode(cluster, { nodeId: 'small', maxValueBytes: 100 }, { seed: 3 })
    await cluster.until(() => cluster!.nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 30_000)
    const big = 'x'.repeat(500)
    const t0 = cluster.clock.now()
    const r = await cluster.settle(outcome(a.node.setAcked('big', big, { acks: 'all', timeoutMs: 5000 })), 6000, 1)
    expect(r).to.be.instanceOf(AckError)
    expect((r as AckError).reason).to.equal('unreachable')
    expect([(r as AckError).acked, (r as AckError).needed]).to.deep.equal([2, 3])
    expect(cluster.clock.now() - t0).to.be.below(100)
    expect(small.node.get('big')).to.equal(undefined)
    expect(small.node.stats().dropped['value-too-large']).to.be.at.least(1)
    expect(await cluster.settle(outcome(a.node.setAcked('big2', big, { acks: 'majority' })), 1000)).to.equal('resolved')
  })

  it('a peer holding a newer version of the key counts as an ack', async () => {
    cluster = new CacheCluster(306)
    const nodes = await cluster.start(2)
    const [a, b] = nodes as [Bcache<unknown>, Bcache<unknown>]
    // Only b holds a write of `k` from later in version order (a minute ahead).
    const outsider = cluster.net.bind('10.66.0.1:7946')
    const v = { wall: cluster.clock.now() + 60_000, counter: 0, origin: 'future' }
    outsider.sendPacket(b.address, buildPacket([encodeUser(encodeDelta('k', packValue('newer'), v, 1, 0))]))
    await cluster.run(5)
    expect(b.get('k')).to.equal('newer')
    expect(a.get('k')).to.equal(undefined)
    const r = await cluster.settle(outcome(a.setAcked('k', 'older', { acks: 'all' })), 1000)
    expect(r).to.equal('resolved')
    expect(b.get('k')).to.equal('newer')
    await cluster.settle(outsider.close())
  })

  it('bad options are refused with a TypeError/RangeError naming the option, and nothing is written', async () => {
    cluster = new CacheCluster(307)
    const [a] = await cluster.start(1)
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [{ acks: 0 }, RangeError, /acks/], [{ acks: 1.5 }, RangeError, /acks/], [{ acks: 'most' }, RangeError, /acks/],
      [{ acks: true }, TypeError, /acks/], [{ acks: null }, TypeError, /acks/], [{ timeoutMs: 0 }, RangeError, /timeoutMs/],
      [{ timeoutMs: -1 }, RangeError, /timeoutMs/], [{ timeoutMs: Infinity }, RangeError, /timeoutMs/], [{ timeoutMs: '5' }, TypeError, /timeoutMs/],
      [{ ttl: -1 }, RangeError, /ttl/], [{ ttl: 'x' }, TypeError, /ttl/], [{ ack: 1 }, TypeError, /option ack: unknown option/], [{ timeoutMS: 5 }, TypeError, /did you mean timeoutMs/], ['x', TypeError, /options/]
    ]
    for (const [opts, Err, msg] of bad) {
      const r = await outcome(a!.setAcked('k', 1, opts as never))
      expect(r, JSON.stringify(opts)).to.be.instanceOf(Err)
      expect((r as Error).message, JSON.stringify(opts)).to.match(msg)
    }
    expect(a!.get('k')).to.equal(undefined)
    expect(a!.stats().sets).to.equal(0)
    expect(a!.stats().replication.deltasOut).to.equal(0)
  })

  it('a malformed Ack request is dropped and counted; the node keeps working', async () => {
    cluster = new CacheCluster(308)
    const nodes = await cluster.start(2)
    const [a, b] = nodes as [Bcache<unknown>, Bcache<unknown>]
    const outsider = cluster.net.bind('10.66.0.1:7946')
    const payloads = [Buffer.from([0xc1]), Buffer.from([0x93, 1, 2, 3]), Buffer.alloc(0)]
    const closed: boolean[] = []
    for (const payload of payloads) {
      const conn = await cluster.settle(outsider.dialStream(b.address, 1000))
      let replies = 0
      conn.onFrame(() => { replies++ })
      conn.send(encodeFrame({ type: MsgType.UserStream, tag: StreamTag.Ack, payload }))
      await cluster.run(20)
      closed.push(conn.closed && replies === 0)
    }
    expect(closed).to.deep.equal([true, true, true])
    const drops = Object.entries(b.stats().dropped).filter(([k]) => k.startsWith('ack-')).reduce((s, [, n]) => s + n, 0)
    expect(drops).to.equal(3)
    expect(await cluster.settle(outcome(a.setAcked('k', 1, { acks: 'all' })), 1000)).to.equal('resolved')
    expect(b.get('k')).to.equal(1)
    await cluster.settle(outsider.close())
  })

  it('a round that times out closes every Ack stream it opened', async () => {
    cluster = new CacheCluster(310)
    const { node: a } = await addClusterNode(cluster, { nodeId: 'a' }, { seed: 1 })
    await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2 })
    const c = await addClusterNode(cluster, { nodeId: 'c' }, { seed: 3 })
    await cluster.until(() => cluster!.nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 30_000)
    const membership = (a as unknown as { p: { membership: { openStream(addr: string, tag: number, payload: Uint8Array): Promise<StreamConn> } } }).p.membership
    const opened: StreamConn[] = []
    const open = membership.openStream.bind(membership)
    membership.openStream = async (addr, tag, payload) => {
      const conn = await open(addr, tag, payload)
      if (tag === StreamTag.Ack) opened.push(conn)
      return conn
    }
    c.transport.pauseReading() // c's stream opens, its request is never read
    const r = await cluster.settle(outcome(a.setAcked('k', 1, { acks: 'all', timeoutMs: 200 })), 1000)
    expect((r as AckError).reason).to.equal('timeout')
    expect(opened.length).to.equal(2)
    expect(opened.map((x) => x.closed)).to.deep.equal([true, true])
    c.transport.resumeReading()
  })

  it('close() during a pending setAcked rejects it with AckError (reason closed, cause ClosedError) and leaves no stream or dial open', async () => {
    cluster = new CacheCluster(309)
    const { node: a, transport } = await addClusterNode(cluster, { nodeId: 'a' }, { seed: 1 })
    await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2 })
    // c reads nothing: its Ack stream opens but never answers.
    const c = await addClusterNode(cluster, { nodeId: 'c' }, { seed: 3 })
    await cluster.until(() => cluster!.nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 30_000)
    c.transport.pauseReading()
    const p = outcome(a.setAcked('k', 1, { acks: 'all', timeoutMs: 60_000 }))
    await cluster.run(20)
    expect(pendingAcks(a)).to.equal(1)
    const closing = a.close()
    const r = await cluster.settle(p, 5000)
    await cluster.settle(closing, 5000)
    expect(r).to.be.instanceOf(AckError)
    expect((r as AckError).reason).to.equal('closed')
    expect((r as AckError).cause).to.be.instanceOf(ClosedError)
    expect([(r as AckError).acked, (r as AckError).needed]).to.deep.equal([2, 3])
    expect(pendingAcks(a)).to.equal(0)
    const t = transport as unknown as { conns: Set<unknown>; dials: Set<unknown> }
    expect([t.conns.size, t.dials.size]).to.deep.equal([0, 0])
    // A call after close is a ClosedError, as for set.
    expect(await outcome(a.setAcked('k', 2))).to.be.instanceOf(ClosedError)
    c.transport.resumeReading()
  })
})
