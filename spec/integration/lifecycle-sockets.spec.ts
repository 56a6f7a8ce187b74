import { expect } from 'chai'
import { Bcache } from '../../lib/index.js'

describe('Bcache lifecycle on real sockets (127.0.0.1, port 0)', function () {
  this.timeout(10_000)

  it('a lone node on the lan profile starts and closes promptly', async () => {
    let t = performance.now()
    const a = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: 100, profile: 'lan' })
    const createMs = performance.now() - t
    t = performance.now()
    await a.close()
    const closeMs = performance.now() - t
    // Measured ~8 ms and ~1 ms; it was ~600 ms and ~1000 ms. Bounds are generous for a busy CI box.
    expect(createMs, 'create() ms').to.be.below(300)
    expect(closeMs, 'close() ms').to.be.below(300)
  })

  it('a node whose only seed is its own address starts promptly', async () => {
    const probe = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', maxKeys: 100, profile: 'lan' })
    const addr = probe.address
    await probe.close()
    const t = performance.now()
    const a = await Bcache.create<string>({ listenAddr: addr, peers: [addr], maxKeys: 100, profile: 'lan' })
    const createMs = performance.now() - t
    await a.close()
    expect(createMs, 'create() ms').to.be.below(300)
  })
})
