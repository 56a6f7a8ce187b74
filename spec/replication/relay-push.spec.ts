import { expect } from 'chai'
import type { Bcache } from '../../lib/bcache.js'
import type { NodeParts } from '../../lib/node-parts.js'
import {
  RELAY_TAG, decodeRelayHeader, encodeRelayHeader, fanoutFor, isRelayHeader, relayGroup, withRelayTag
} from '../../lib/replication/relay-push.js'
import { resolveTuning } from '../../lib/options.js'
import { CacheCluster } from '../support/cache-cluster.js'

const parts = (n: Bcache<unknown>): NodeParts<unknown> => (n as unknown as { p: NodeParts<unknown> }).p

describe('Relayed eager push (pieces)', () => {
  it('a relay header round-trips and is told apart from a delta by its first byte', () => {
    for (const [k, count] of [[1, 1], [32, 40], [200, 255], [65_535, 7]] as const) {
      const h = encodeRelayHeader(k, count)
      expect(isRelayHeader(h)).to.equal(true)
      expect(decodeRelayHeader(h)).to.deep.equal({ k, count })
    }
  })

  it('groups are stable and spread', () => {
    expect(relayGroup('n1', 7)).to.equal(relayGroup('n1', 7))
    const sizes = new Array<number>(8).fill(0)
    for (let i = 0; i < 800; i++) sizes[relayGroup(`node-${i}`, 8)]!++
    for (const s of sizes) expect(s).to.be.within(60, 140)
  })

  it('the fan-out is max(eagerFanout, ceil(sqrt(N))); the default floor is 32', () => {
    expect(resolveTuning('lan').eagerFanout).to.equal(32)
    expect(fanoutFor(32, 100)).to.equal(32)
    expect(fanoutFor(32, 1000)).to.equal(32)
    expect(fanoutFor(32, 10_000)).to.equal(100)
    expect(fanoutFor(3, 10)).to.equal(4)
    expect(() => resolveTuning('lan', { eagerFanout: 0 })).to.throw(RangeError, /^option tuning\.eagerFanout: /)
  })

  it('the relay tag is added to the user tags only when they leave room and do not set it', () => {
    expect(withRelayTag({ zone: 'a' })).to.deep.equal({ zone: 'a', [RELAY_TAG]: '1' })
    expect(withRelayTag({ [RELAY_TAG]: '0' })).to.deep.equal({ [RELAY_TAG]: '0' })
    const full = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`t${i}`, 'x']))
    expect(withRelayTag(full)).to.equal(full)
    expect(withRelayTag('bad')).to.equal('bad') // left for setTags to refuse
  })
})

describe('Relayed eager push (cluster)', function () {
  this.timeout(120_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  async function start(n: number, opts: { seed: number; antiEntropyIntervalMs?: number; optOut?: number }): Promise<Array<Bcache<unknown>>> {
    cluster = new CacheCluster(opts.seed, { tuning: { eagerFanout: 3, ...(opts.antiEntropyIntervalMs === undefined ? {} : { antiEntropyIntervalMs: opts.antiEntropyIntervalMs }) } })
    for (let i = 0; i < n; i++) await cluster.add(i === opts.optOut ? { tags: { [RELAY_TAG]: '0' } } : {})
    const ok = await cluster.until(() => cluster.nodes.every((a) => {
      const alive = parts(a).membership.members().filter((m) => m.state === 'alive')
      return alive.length === n && (opts.optOut !== undefined || alive.every((m) => m.tags[RELAY_TAG] === '1'))
    }), 30_000)
    expect(ok, 'cluster formed').to.be.at.least(0)
    await cluster.run(2000) // let the join-time rounds settle
    return cluster.nodes
  }

  /** Writes `writes` keys from `w`, one per turn, 2 ms apart. */
  async function write(w: Bcache<unknown>, writes: number, prefix = 'k'): Promise<void> {
    for (let i = 0; i < writes; i++) {
      w.set(`${prefix}${i}`, `v${i}`)
      await cluster.run(2, 1)
    }
  }

  const holdsAll = (nodes: readonly Bcache<unknown>[], writes: number, prefix = 'k'): boolean =>
    nodes.every((n) => Array.from({ length: writes }, (_, i) => n.get(`${prefix}${i}`) === `v${i}`).every(Boolean))

  it('past the fan-out the writer sends about k datagrams per write, relays forward, and every write reaches every node at once', async () => {
    const nodes = await start(10, { seed: 301, antiEntropyIntervalMs: 0 })
    const w = nodes[0]!
    const before = w.stats().replication.pushDatagrams
    const relayedBefore = nodes.reduce((s, n) => s + n.stats().replication.relayDatagrams, 0)
    const writes = 50
    await write(w, writes)
    await cluster.run(20)
    const sent = (w.stats().replication.pushDatagrams - before) / writes
    expect(sent, 'writer datagrams per write').to.be.at.most(4).and.at.least(2) // k = max(3, ceil(sqrt(10))) = 4, not 9
    const relayed = nodes.reduce((s, n) => s + n.stats().replication.relayDatagrams, 0) - relayedBefore
    expect(relayed / writes, 'datagrams relays forwarded per write').to.be.at.least(9 - 4)
    expect(holdsAll(nodes, writes), 'every node holds every write within 20 ms').to.equal(true)
    for (const n of nodes) expect(n.stats().replication.dropped).to.not.have.property('relay-header-field')
    for (const m of w.members()) expect(m.tags, 'the reserved tag is hidden from users').to.not.have.property(RELAY_TAG)
  })

  it('a relay request the network loses is repaired from the relays\' gossip feeds (no anti-entropy)', async () => {
    const nodes = await start(10, { seed: 302, antiEntropyIntervalMs: 0 })
    const w = nodes[0]!
    // Cut the writer off from one whole group: whichever relay it picks there
    // never gets the request, and the writer's own gossip cannot reach it.
    const k = fanoutFor(3, 10)
    const g = relayGroup(nodes[1]!.nodeId, k)
    const cut = nodes.slice(1).filter((n) => relayGroup(n.nodeId, k) === g)
    for (const n of cut) cluster.net.block(w.address, n.address)
    const writes = 20
    await write(w, writes)
    await cluster.run(20)
    expect(holdsAll(cut, writes), 'the cut group missed the push').to.equal(false)
    expect(await cluster.until(() => holdsAll(nodes, writes), 10_000), 'every node converges').to.be.at.least(0)
  })

  it('a member without the relay tag makes the writer push to every peer directly', async () => {
    const nodes = await start(10, { seed: 303, optOut: 5 })
    const w = nodes[0]!
    const before = w.stats().replication.pushDatagrams
    await write(w, 20)
    await cluster.run(20)
    expect((w.stats().replication.pushDatagrams - before) / 20).to.equal(9)
    for (const n of nodes) expect(n.stats().replication.relayDatagrams).to.equal(0)
    expect(holdsAll(nodes, 20)).to.equal(true)
  })

  it('a malformed relay header is dropped and counted; the deltas after it still apply', async () => {
    const nodes = await start(4, { seed: 304 })
    const [a, b] = nodes
    const r = parts(b!).replicator
    r.notifyMsg(Buffer.from([0x93, 2, 1, 1]), a!.address) // wrong version mark
    r.notifyMsg(Buffer.from([0x93, 1, 0, 1]), a!.address) // k = 0
    r.notifyMsg(Buffer.from([0x93, 0xc1]), a!.address) // not msgpack
    r.notifyMsg(Buffer.from([0x93, 1, 1]), a!.address) // truncated
    const dropped = b!.stats().replication.dropped
    expect(dropped['relay-header-field'], 'field').to.equal(2)
    const rest = Object.entries(dropped).filter(([reason]) => reason.startsWith('relay-header') && reason !== 'relay-header-field')
    expect(rest.reduce((s, [, n]) => s + n, 0), 'undecodable').to.equal(2)
    a!.set('after', 1)
    await cluster.run(50)
    expect(b!.get('after')).to.equal(1)
    expect(b!.stats().replication.relayDatagrams).to.equal(0)
  })
})
