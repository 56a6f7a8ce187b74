import { expect } from 'chai'
import { PUSH_DATAGRAMS_PER_SEC, PUSH_DATAGRAM_BURST } from '../../lib/replication/eager-push.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'

describe('Eager push pacing (cluster)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: a writer sustaining many small turns (each under the per-turn
  // datagram limit) sent every one as datagrams — tens of thousands a second
  // to each peer on a real network, more than socket buffers hold, and the
  // lost writes waited for anti-entropy. Now datagrams are paced and the rest
  // goes over the push streams.
  it('a writer of 1,000 turns/s, 3 datagrams each, sends at most the paced budget as datagrams and the rest over streams; every write arrives', async () => {
    cluster = new CacheCluster(61)
    const [a, b, c] = await cluster.start(3)
    const before = a!.stats().replication.pushDatagrams
    const value = 'v'.repeat(100)
    const turns = 1000, perTurn = 30
    for (let t = 0; t < turns; t++) {
      for (let i = 0; i < perTurn; i++) a!.set(`t${t}-${i}`, value)
      await cluster.run(1, 1)
    }
    const r = a!.stats().replication
    const perPeer = (r.pushDatagrams - before) / 2
    expect(perPeer, 'datagrams to each peer over 1 s').to.be.at.most(PUSH_DATAGRAMS_PER_SEC * 1.05 + PUSH_DATAGRAM_BURST)
    expect(perPeer).to.be.greaterThan(PUSH_DATAGRAMS_PER_SEC / 2)
    expect(r.pushPaced, 'turns moved to streams by pacing').to.be.greaterThan(0)
    const t = a!.stats().transport // both paths counted in stats()
    expect(t.packetBytesOut).to.be.greaterThan(perPeer * 2 * 1000)
    expect(t.streamBytesOut).to.be.greaterThan(100 * 1000 * 30) // the paced-out turns went by stream
    await cluster.run(3000)
    expect(b!.stats().keys, 'b').to.equal(turns * perTurn)
    expect(c!.stats().keys, 'c').to.equal(turns * perTurn)
  })

  it('a writer within the budget keeps using datagrams only', async () => {
    cluster = new CacheCluster(62)
    const [a, b] = await cluster.start(2)
    for (let t = 0; t < 200; t++) {
      for (let i = 0; i < 5; i++) a!.set(`t${t}-${i}`, 'x')
      await cluster.run(5, 5) // 200 turns/s of one datagram
    }
    expect(a!.stats().replication.pushPaced).to.equal(0)
    expect(a!.stats().replication.pushBatches).to.equal(0)
    await cluster.run(500)
    expect(b!.stats().keys).to.equal(1000)
  })
})

describe('Backpressure: set() returns false and drain follows (cluster)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: a writer producing flat out had no way to know its receivers
  // were behind; it outran them into push-backlog drops (anti-entropy then
  // repaired most writes) and took the CPU its peers needed.
  it('while a peer does not read, set() returns false; once it reads again, drain is emitted and set() returns true', async () => {
    cluster = new CacheCluster(64)
    const a = await cluster.add({ nodeId: 'a' })
    const { node: b, transport: bt } = await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2 })
    await cluster.until(() => a.members().filter((m) => m.state === 'alive').length === 2, 10_000)
    let drains = 0
    a.on('drain', () => { drains++ })
    bt.pauseReading()
    const value = 'v'.repeat(1000)
    let accepted = true
    let n = 0
    for (let turn = 0; turn < 50 && accepted; turn++) {
      for (let i = 0; i < 500; i++) accepted = a.set(`k${n++}`, value) && accepted
      await cluster.run(5)
    }
    expect(accepted, 'set() said "backed up"').to.equal(false)
    expect(a.set('one-more', value)).to.equal(false)
    expect(drains).to.equal(0)
    bt.resumeReading()
    expect(await cluster.until(() => drains > 0, 10_000), 'drain emitted').to.be.at.least(0)
    expect(a.set('after-drain', 'x')).to.equal(true)
    await cluster.run(3000)
    expect(b.get('after-drain')).to.equal('x')
    expect(a.stats().dropped['push-backlog'] ?? 0, 'the writer stopped before the queue overflowed').to.equal(0)
  })
})
