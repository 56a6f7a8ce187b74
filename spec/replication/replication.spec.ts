import { expect } from 'chai'
import { CacheCluster } from '../support/cache-cluster.js'
import { seededRandom } from '../../lib/random.js'

const keys = (n: number, prefix = 'k'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('Replication semantics (in-memory network, manual clock)', function () {
  this.timeout(120_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('converges under 30% loss, reordering and duplication', async () => {
    cluster = new CacheCluster(2)
    const nodes = await cluster.start(4)
    cluster.net.setConditions({ lossRate: 0.3, minDelayMs: 0, maxDelayMs: 20, duplicateRate: 0.1 })
    const ks = keys(500)
    const r = seededRandom(5)
    for (const k of ks) nodes[Math.floor(r() * nodes.length)]!.set(k, `v-${k}`)
    const took = await cluster.until(() => nodes.every((n) => ks.every((k) => n.get(k) === `v-${k}`)), 60_000, 10)
    expect(took, 'converged').to.be.greaterThan(-1)
    const aeRounds = nodes.reduce((s, n) => s + n.stats().replication.antiEntropy.rounds, 0)
    expect(aeRounds).to.be.greaterThan(0)
  })

  it('concurrent writes of one key on several nodes end with one value everywhere (last writer wins)', async () => {
    cluster = new CacheCluster(3)
    const nodes = await cluster.start(4)
    cluster.net.setConditions({ minDelayMs: 0, maxDelayMs: 30 })
    for (let round = 0; round < 20; round++) {
      nodes.forEach((n, i) => n.set('hot', `${n.nodeId}-${round}-${i}`))
      await cluster.run(3)
    }
    const ok = await cluster.until(() => cluster.agree(['hot']), 30_000, 10)
    expect(ok).to.be.greaterThan(-1)
    expect(nodes[0]!.get('hot')).to.match(/-19-/)
  })

  it('a delete wins over an older write that arrives late, and stays deleted', async () => {
    cluster = new CacheCluster(4, { tuning: { antiEntropyIntervalMs: 0 } })
    const [a, b, c] = await cluster.start(3)
    // Everything a sends to c takes 3 s: a's write reaches c long after b's delete.
    cluster.net.setLinkConditions(a!.address, c!.address, { minDelayMs: 3000, maxDelayMs: 3000 })
    a!.set('x', 'old')
    await cluster.run(20)
    expect(b!.get('x')).to.equal('old')
    expect(c!.get('x')).to.equal(undefined)
    b!.delete('x')
    await cluster.run(20)
    expect(a!.get('x')).to.equal(undefined)
    expect(c!.stats().tombstones).to.equal(1)
    const staleBefore = c!.stats().replication.stale
    await cluster.run(5_000)
    expect(c!.stats().replication.stale).to.be.greaterThan(staleBefore)
    for (const n of [a!, b!, c!]) expect(n.get('x'), n.nodeId).to.equal(undefined)
  })

  it('a delete issued on a node that never saw the key wins over older writes elsewhere', async () => {
    cluster = new CacheCluster(5)
    const [a, b] = await cluster.start(2)
    cluster.net.partition([a!.address], [b!.address])
    a!.set('y', 'value')
    await cluster.run(10)
    b!.delete('y')
    expect(b!.has('y')).to.equal(false)
    cluster.net.heal()
    const ok = await cluster.until(() => a!.get('y') === undefined && b!.get('y') === undefined, 30_000, 10)
    expect(ok).to.be.greaterThan(-1)
    await cluster.run(10_000)
    expect(a!.get('y')).to.equal(undefined)
  })

  it('expires a TTL value at the same instant on every node, without gossiping a delete', async () => {
    cluster = new CacheCluster(6)
    const nodes = await cluster.start(3)
    nodes[0]!.set('t', 'temp', { ttl: 1000 })
    await cluster.run(50)
    for (const n of nodes) expect(n.get('t')).to.equal('temp')
    await cluster.run(940)
    for (const n of nodes) expect(n.get('t')).to.equal('temp')
    await cluster.run(20)
    for (const n of nodes) expect(n.get('t')).to.equal(undefined)
    expect(nodes[1]!.stats().tombstones).to.equal(0)
  })

  it('LRU eviction is local and never gossiped as a delete', async () => {
    cluster = new CacheCluster(7)
    const a = await cluster.add({ maxKeys: 10 })
    const b = await cluster.add({ maxKeys: 1000 })
    await cluster.until(() => a.members().length === 2 && b.members().length === 2, 10_000)
    for (const k of keys(50)) b.set(k, k)
    await cluster.run(5_000)
    expect(a.stats().keys).to.equal(10)
    expect(a.stats().evictions).to.be.at.least(40)
    expect(b.stats().keys).to.equal(50)
    expect(b.get('k0')).to.equal('k0')
    // and anti-entropy does not re-send what a evicted, round after round
    const before = a.stats().replication.antiEntropy.entriesIn
    await cluster.run(20_000)
    expect(a.stats().replication.antiEntropy.entriesIn - before).to.equal(0)
  })

  it('a late joiner receives every key by anti-entropy before create() resolves', async () => {
    cluster = new CacheCluster(8)
    const [a] = await cluster.start(2)
    const ks = keys(20_000)
    for (const k of ks) a!.set(k, { k, pad: 'x'.repeat(80) })
    await cluster.run(100)
    const late = await cluster.add()
    expect(late.stats().keys).to.equal(20_000)
    expect(late.get('k12345')).to.deep.equal({ k: 'k12345', pad: 'x'.repeat(80) })
  })

  it('heals a partition with writes on both sides to one identical state', async () => {
    cluster = new CacheCluster(9)
    const nodes = await cluster.start(5)
    const left = nodes.slice(0, 2)
    const right = nodes.slice(2)
    cluster.net.partition(left.map((n) => n.address), right.map((n) => n.address))
    for (const k of keys(200, 'L')) left[0]!.set(k, 1)
    for (const k of keys(200, 'R')) right[0]!.set(k, 2)
    left[1]!.set('both', 'left')
    await cluster.run(1)
    right[1]!.set('both', 'right')
    left[0]!.delete('R5')
    await cluster.run(3000)
    cluster.net.heal()
    const all = [...keys(200, 'L'), ...keys(200, 'R'), 'both']
    const ok = await cluster.until(() => cluster.agree(all) && nodes.every((n) => n.get('L7') === 1 && n.get('R7') === 2), 90_000, 10)
    expect(ok).to.be.greaterThan(-1)
    expect(nodes[0]!.get('both')).to.equal('right')
    // R5 was deleted on the left while the right never saw it; the delete is newer, so it wins
    for (const n of nodes) expect(n.get('R5')).to.equal(undefined)
  })

  it('anti-entropy between nodes in sync costs a small digest, not the state', async () => {
    cluster = new CacheCluster(10)
    const [a, b] = await cluster.start(2)
    for (const k of keys(5000)) a!.set(k, 'v'.repeat(100))
    await cluster.run(10_000)
    expect(b!.stats().keys).to.equal(5000)
    const before = a!.stats().replication.antiEntropy
    await cluster.run(30_000)
    const after = a!.stats().replication.antiEntropy
    // periodic rounds between nodes in sync now end at the coverage check (coverage-check.ts)
    const rounds = after.rounds - before.rounds + after.inSync - before.inSync
    expect(rounds).to.be.greaterThan(3)
    expect(after.inSync - before.inSync, 'rounds that ended at the coverage check').to.be.greaterThan(3)
    const bytesPerRound = (after.bytesOut + after.bytesIn - before.bytesOut - before.bytesIn) / rounds
    expect(bytesPerRound).to.be.lessThan(60)
    expect(after.entriesOut - before.entriesOut).to.equal(0)
  })
})
