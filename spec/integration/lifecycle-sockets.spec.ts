import { expect } from 'chai'
import { Bcache } from '../../lib/index.js'

describe('Bcache lifecycle on real sockets (127.0.0.1, port 0)', function () {
  this.timeout(10_000)

  // How fast: benchmarks/lifecycle.ts (figures in benchmarks/README.md); the
  // no-wait behaviour is pinned in virtual time by spec/bcache-lifecycle.spec.ts.
  it('a lone node on the lan profile starts alone, serves its own writes and closes', async () => {
    const a = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: 100, profile: 'lan' })
    a.set('k', 'v')
    expect(a.get('k')).to.equal('v')
    expect(a.members().map((m) => m.state)).to.deep.equal(['alive'])
    await a.close()
    expect(() => a.set('k', 'w')).to.throw(/closed/)
  })

  it('a node whose only seed is its own address starts alone', async () => {
    const probe = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', maxKeys: 100, profile: 'lan' })
    const addr = probe.address
    await probe.close()
    const a = await Bcache.create<string>({ listenAddr: addr, peers: [addr], maxKeys: 100, profile: 'lan' })
    expect(a.members().map((m) => m.nodeId)).to.deep.equal([a.nodeId])
    await a.close()
  })
})
