import { expect } from 'chai'
import { AckError, Bcache } from '../../lib/index.js'
import { pollUntil } from '../../tools/wait.js'

describe('setAcked on real sockets (127.0.0.1, port 0)', function () {
  this.timeout(30_000)
  const nodes: Array<Bcache<unknown>> = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })

  it("3 nodes: 'majority' and 'all' resolve, and every node holds the write; acks 4 rejects at once", async () => {
    const a = await Bcache.create<unknown>({ listenAddr: '127.0.0.1:0', maxKeys: 1000, profile: 'local' })
    nodes.push(a)
    for (let i = 0; i < 2; i++) nodes.push(await Bcache.create<unknown>({ listenAddr: '127.0.0.1:0', peers: [a.address], maxKeys: 1000, profile: 'local' }))
    await pollUntil(() => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 5_000, () => 'no 3-node cluster', 5)
    await a.setAcked('k', { v: 1 }, { acks: 'majority', timeoutMs: 5000 })
    await nodes[1]!.setAcked('k2', 'x'.repeat(100_000), { acks: 'all', timeoutMs: 5000 }) // a value too large for a datagram
    // 'all' resolved: every node held k2 at that moment.
    for (const n of nodes) expect(n.get('k2'), n.nodeId).to.have.length(100_000)
    await pollUntil(() => nodes.every((n) => n.get('k') !== undefined), 5_000, () => 'k not everywhere', 5)
    const err = await a.setAcked('k3', 1, { acks: 4 }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(AckError).with.property('reason', 'too-few-members')
  })
})
