import { expect } from 'chai'
import { Cluster, state } from '../support/cluster.js'
import { JoinError } from '../../lib/errors.js'
import { MsgType } from '../../lib/wire/messages.js'
import type { MemberInfo } from '../../lib/membership/member-table.js'

describe('Membership (in-memory network, manual clock)', function () {
  this.timeout(60_000)
  let cluster: Cluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('joins through a seed by push-pull and everyone sees everyone alive', async () => {
    cluster = new Cluster(1)
    const nodes = await cluster.start(5)
    for (const a of nodes) {
      expect(a.members()).to.have.length(5)
      for (const m of a.members()) expect(m.state).to.equal('alive')
    }
    expect(nodes[0]!.stats().pushPulls).to.be.greaterThan(0)
  })

  it('rejects a join when no seed answers, and resolves 0 with no seeds', async () => {
    cluster = new Cluster(2, { tuning: { tcpTimeoutMs: 500 } })
    const a = cluster.add()
    expect(await a.join([])).to.equal(0)
    const err = await cluster.settle(a.join(['127.9.9.9:7946']).then(() => null, (e: unknown) => e))
    expect(err).to.be.instanceOf(JoinError)
  })

  it('probes every member and keeps a healthy cluster alive with no false suspicion', async () => {
    cluster = new Cluster(3)
    const nodes = await cluster.start(6)
    const updates: MemberInfo[] = []
    for (const n of nodes) n.on('update', (m) => updates.push(m))
    await cluster.run(30_000)
    expect(updates.filter((m) => m.state !== 'alive')).to.deep.equal([])
    for (const n of nodes) {
      expect(n.stats().probes).to.be.greaterThan(20)
      expect(n.stats().probeFailures).to.equal(0)
      expect(n.healthScore()).to.equal(0)
    }
  })

  it('detects a crashed member: suspect, then dead, with a fail event everywhere', async () => {
    cluster = new Cluster(4)
    const nodes = await cluster.start(5)
    const victim = nodes[4]!
    const fails: string[] = []
    for (const n of nodes.slice(0, 4)) n.on('fail', (m) => fails.push(`${n.nodeId}:${m.nodeId}`))
    await cluster.crash(victim)
    const took = await cluster.until(() => nodes.slice(0, 4).every((n) => state(n, victim.nodeId) === 'dead'), 60_000)
    expect(took).to.be.greaterThan(0)
    expect(fails).to.have.length(4)
    // Suspicion min for N=5: 4 × log10(5) × 1 s ≈ 2.8 s; max 6× that.
    expect(took).to.be.lessThan(20_000)
  })

  it('shrinks the suspicion timeout with independent confirmations (10 nodes die near the minimum)', async () => {
    cluster = new Cluster(5)
    const nodes = await cluster.start(10)
    const victim = nodes[9]!
    await cluster.crash(victim)
    const survivors = nodes.slice(0, 9)
    const firstSuspect = await cluster.until(() => survivors.some((n) => state(n, victim.nodeId) === 'suspect'), 30_000)
    expect(firstSuspect).to.be.greaterThan(-1)
    const toDead = await cluster.until(() => survivors.every((n) => state(n, victim.nodeId) === 'dead'), 60_000)
    // min = 4 × log10(10) × 1000 = 4000 ms, max = 24000 ms: with confirmations
    // the first declaration comes near the minimum, far from the maximum.
    expect(toDead).to.be.within(3000, 9000)
  })

  it('refutes a false suspicion by raising its incarnation', async () => {
    cluster = new Cluster(6)
    const nodes = await cluster.start(4)
    const accused = nodes[1]!
    const before = accused.incarnation
    nodes[0]!.receive({ type: MsgType.Suspect, incarnation: before, nodeId: accused.nodeId, fromId: nodes[0]!.nodeId }, nodes[0]!.address)
    expect(state(nodes[0]!, accused.nodeId)).to.equal('suspect')
    const took = await cluster.until(() => nodes.every((n) => state(n, accused.nodeId) === 'alive' &&
      n.members().find((m) => m.nodeId === accused.nodeId)!.incarnation > before), 10_000)
    expect(took).to.be.greaterThan(-1)
    expect(accused.incarnation).to.be.greaterThan(before)
  })

  it('tells a suspect of the accusation in the very ping that probes it (buddy system)', async () => {
    cluster = new Cluster(16, { tuning: { gossipNodes: 0 } })
    const nodes = await cluster.start(2)
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
    await cluster.run(3_000)
    const before = b.incarnation
    a.receive({ type: MsgType.Suspect, incarnation: before, nodeId: b.nodeId, fromId: 'someone-else' }, a.address)
    // No gossip ticks (gossipNodes 0) and the broadcast dropped: only a's probe can tell b.
    ;(a as unknown as { queue: { reset(): void } }).queue.reset()
    // Well before the suspicion timeout (4 s) could let a dead verdict reach b some other way.
    const took = await cluster.until(() => b.incarnation > before, 1_500)
    expect(took).to.be.greaterThan(-1)
    const healed = await cluster.until(() => state(a, b.nodeId) === 'alive', 5_000)
    expect(healed).to.be.greaterThan(-1)
  })

  it('keeps a member alive through indirect probes when the direct path loses 50% both ways', async () => {
    cluster = new Cluster(7, { tuning: { tcpFallbackPing: false } })
    const nodes = await cluster.start(5)
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
    cluster.net.setLinkConditions(a.address, b.address, { lossRate: 0.5 })
    cluster.net.setLinkConditions(b.address, a.address, { lossRate: 0.5 })
    await cluster.run(60_000)
    expect(state(a, b.nodeId)).to.equal('alive')
    expect(state(b, a.nodeId)).to.equal('alive')
    expect(a.stats().indirectProbes + b.stats().indirectProbes).to.be.greaterThan(0)
    for (const n of nodes) for (const m of n.members()) expect(m.state, `${n.nodeId} sees ${m.nodeId}`).to.not.equal('dead')
  })

  it('rescues a member over the TCP fallback ping when UDP to it is blocked', async () => {
    cluster = new Cluster(8)
    const nodes = await cluster.start(2)
    const [a, b] = nodes as [typeof nodes[0], typeof nodes[0]]
    // Drop datagrams a→b only; streams still work (a black-holed UDP port).
    cluster.net.setLinkConditions(a.address, b.address, { lossRate: 1 })
    await cluster.run(20_000)
    expect(state(a, b.nodeId)).to.equal('alive')
    expect(a.stats().tcpFallbackRescues).to.be.greaterThan(0)
  })

  it('relays answer ping-req with a nack when the target is silent, and the prober stays healthy', async () => {
    cluster = new Cluster(9, { tuning: { tcpFallbackPing: false } })
    const nodes = await cluster.start(4)
    const victim = nodes[3]!
    await cluster.crash(victim)
    await cluster.until(() => nodes.slice(0, 3).every((n) => state(n, victim.nodeId) === 'dead'), 60_000)
    // Relays sent nacks, so missed probes did not count against the probers' own health.
    for (const n of nodes.slice(0, 3)) expect(n.healthScore()).to.equal(0)
    expect(nodes.slice(0, 3).reduce((s, n) => s + n.stats().probeFailures, 0)).to.be.greaterThan(0)
  })

  it('raises local health score when this node cannot hear anyone, and lowers it after', async () => {
    cluster = new Cluster(10, { tuning: { tcpFallbackPing: false } })
    const nodes = await cluster.start(5)
    const sick = nodes[0]!
    // Everything towards the sick node is lost: its probes, ping-reqs and nacks all go unanswered.
    for (const n of nodes.slice(1)) cluster.net.block(n.address, sick.address)
    const peak = { score: 0 }
    await cluster.until(() => {
      peak.score = Math.max(peak.score, sick.healthScore())
      return peak.score >= 3
    }, 30_000)
    expect(peak.score).to.be.at.least(3)
    for (const n of nodes.slice(1)) cluster.net.unblock(n.address, sick.address)
    const recovered = await cluster.until(() => sick.healthScore() === 0, 120_000)
    expect(recovered).to.be.greaterThan(-1)
  })

  it('tells a graceful leave (left, leave event) from a failure', async () => {
    cluster = new Cluster(11)
    const nodes = await cluster.start(4)
    const leaver = nodes[3]!
    const events: string[] = []
    for (const n of nodes.slice(0, 3)) {
      n.on('leave', (m) => events.push(`leave:${m.nodeId}`))
      n.on('fail', (m) => events.push(`fail:${m.nodeId}`))
    }
    await cluster.settle(leaver.leave())
    await cluster.settle(leaver.shutdown())
    await cluster.until(() => nodes.slice(0, 3).every((n) => state(n, leaver.nodeId) === 'left'), 5_000)
    for (const n of nodes.slice(0, 3)) expect(state(n, leaver.nodeId)).to.equal('left')
    await cluster.run(30_000)
    expect(events.filter((e) => e.startsWith('fail'))).to.deep.equal([])
    expect(events).to.have.length(3)
  })

  it('reaps dead members after reapDeadAfterMs', async () => {
    cluster = new Cluster(12, { profile: 'local' })
    const nodes = await cluster.start(4)
    const victim = nodes[3]!
    await cluster.crash(victim)
    await cluster.until(() => state(nodes[0]!, victim.nodeId) === 'dead', 30_000)
    const took = await cluster.until(() => nodes.slice(0, 3).every((n) => state(n, victim.nodeId) === undefined), 60_000)
    expect(took).to.be.greaterThan(-1)
    expect(nodes[0]!.members()).to.have.length(3)
  })

  it('accepts a node restarted at the same address and id with a new incarnation', async () => {
    cluster = new Cluster(13)
    const nodes = await cluster.start(4)
    const old = nodes[3]!
    const { nodeId, address } = old
    const oldInc = old.incarnation
    await cluster.crash(old)
    await cluster.until(() => state(nodes[0]!, nodeId) === 'dead', 60_000)
    cluster.clock.advance(2_000)
    const fresh = cluster.add({ nodeId, address })
    const joins: string[] = []
    nodes[0]!.on('join', (m) => joins.push(m.nodeId))
    await cluster.settle(fresh.join([nodes[0]!.address]))
    const took = await cluster.until(() => nodes.slice(0, 3).every((n) => state(n, nodeId) === 'alive'), 10_000)
    expect(took).to.be.greaterThan(-1)
    expect(joins).to.include(nodeId)
    expect(nodes[0]!.members().find((m) => m.nodeId === nodeId)!.incarnation).to.be.greaterThan(oldInc)
  })

  it('a 10-node cluster partitioned 5|5 marks the other side dead, then heals back to one', async () => {
    cluster = new Cluster(14)
    const nodes = await cluster.start(10)
    const left = nodes.slice(0, 5)
    const right = nodes.slice(5)
    cluster.net.partition(left.map((n) => n.address), right.map((n) => n.address))
    const split = await cluster.until(() =>
      left.every((a) => right.every((b) => state(a, b.nodeId) === 'dead')) &&
      right.every((a) => left.every((b) => state(a, b.nodeId) === 'dead')), 120_000)
    expect(split).to.be.greaterThan(-1)
    for (const a of left) for (const b of left) expect(state(a, b.nodeId)).to.equal('alive')
    cluster.net.heal()
    const healed = await cluster.until(() => nodes.every((a) => nodes.every((b) => state(a, b.nodeId) === 'alive')), 120_000)
    expect(healed).to.be.greaterThan(-1)
  })

  it('drops and counts malformed datagrams without changing state', async () => {
    cluster = new Cluster(15)
    const nodes = await cluster.start(3)
    const target = nodes[0]!
    const junk = cluster.net.bind()
    const before = target.members()
    junk.sendPacket(target.address, Buffer.from('not a bcache packet'))
    junk.sendPacket(target.address, Buffer.from([0xbc, 0xac, 1, 0, 0x91, 0xc1]))
    await cluster.run(100)
    const dropped = target.stats().dropped
    expect(Object.values(dropped).reduce((s, n) => s + n, 0)).to.be.at.least(2)
    expect(target.members()).to.deep.equal(before)
    await junk.close()
  })
})

describe('Membership reconnection', function () {
  this.timeout(60_000)

  it('heals a partition that outlasted gossip-to-the-dead, through push-pull with dead members', async () => {
    const cluster = new Cluster(21)
    try {
      const nodes = await cluster.start(6)
      const a = nodes.slice(0, 3)
      const b = nodes.slice(3)
      cluster.net.partition(a.map((n) => n.address), b.map((n) => n.address))
      await cluster.run(45_000)
      expect(state(a[0]!, b[0]!.nodeId)).to.equal('dead')
      cluster.net.heal()
      const healed = await cluster.until(() => nodes.every((x) => nodes.every((y) => state(x, y.nodeId) === 'alive')), 90_000)
      expect(healed).to.be.greaterThan(-1)
    } finally {
      await cluster.closeAll()
    }
  })
})
