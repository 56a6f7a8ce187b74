import { expect } from 'chai'
import { Bcache } from '../../lib/index.js'
import { pollUntil } from '../../tools/wait.js'

describe("Invalidation mode on real sockets (127.0.0.1, port 0)", function () {
  this.timeout(30_000)
  const nodes: Array<Bcache<unknown>> = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })

  it('3 nodes: a write on one drops the filled copies on the others; values never travel; setAcked all waits for the invalidations', async () => {
    const opts = { listenAddr: '127.0.0.1:0', maxKeys: 1000, profile: 'local' as const, mode: 'invalidate' as const }
    const a = await Bcache.create<unknown>(opts)
    nodes.push(a)
    for (let i = 0; i < 2; i++) nodes.push(await Bcache.create<unknown>({ ...opts, peers: [a.address] }))
    const [, b, c] = nodes
    await pollUntil(() => nodes.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 5_000, () => 'no 3-node cluster', 5)
    expect(await b!.getWithFiller('row', () => 'from the database')).to.equal('from the database')
    expect(await c!.getWithFiller('row', () => 'from the database')).to.equal('from the database')
    await a.setAcked('row', 'written on a', { acks: 'all', timeoutMs: 5000 })
    // 'all' resolved: every node holds the invalidation, so the older copies are gone
    expect(b!.get('row')).to.equal(undefined)
    expect(c!.get('row')).to.equal(undefined)
    expect(a.get('row')).to.equal('written on a')
    a.set('big', 'x'.repeat(100_000))
    await new Promise((r) => setTimeout(r, 200))
    expect(b!.get('big')).to.equal(undefined)
    expect(b!.stats().transport.streamBytesIn + b!.stats().transport.packetBytesIn, 'no 100 KB value reached b').to.be.below(100_000)
  })
})
