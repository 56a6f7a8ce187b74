/**
 * IPv6 on real sockets: two nodes on [::1] with port 0 join, replicate and
 * see each other at bracketed addresses; a refused join names its reason
 * over real TCP too. Skipped, saying why, when this machine cannot bind ::1.
 * Traffic stays on the loopback interface.
 */
import dgram from 'node:dgram'
import net from 'node:net'
import { expect } from 'chai'
import { Bcache, JoinError } from '../../lib/index.js'
import { pollUntil } from '../../tools/wait.js'

/** Whether UDP and TCP can both bind [::1]:0 here (IPv6 may be disabled in a container). */
async function canBindLoopbackV6(): Promise<boolean> {
  const udp = dgram.createSocket({ type: 'udp6' })
  const tcp = net.createServer()
  try {
    await new Promise<void>((resolve, reject) => { udp.once('error', reject); udp.bind({ address: '::1', port: 0 }, resolve) })
    await new Promise<void>((resolve, reject) => { tcp.once('error', reject); tcp.listen({ host: '::1', port: 0 }, resolve) })
    return true
  } catch {
    return false
  } finally {
    try { udp.close() } catch { /* not bound */ }
    if (tcp.listening) await new Promise((r) => tcp.close(r))
  }
}

const waitFor = (predicate: () => boolean, timeoutMs: number): Promise<number> =>
  pollUntil(predicate, timeoutMs, () => 'condition not met in time', 5)

describe('Bcache on IPv6 real sockets ([::1], port 0)', function () {
  this.timeout(30_000)
  const nodes: Array<{ close(): Promise<void> }> = []

  before(async function () {
    if (!(await canBindLoopbackV6())) {
      console.log('      (skipped: this machine cannot bind UDP and TCP on [::1]; IPv6 loopback is disabled)')
      this.skip()
    }
  })

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })

  it('two nodes join over [::1], replicate, and list each other at bracketed addresses', async () => {
    const a = await Bcache.create<string>({ listenAddr: '[::1]:0', maxKeys: 1000, profile: 'local' })
    nodes.push(a)
    expect(a.address).to.match(/^\[::1\]:\d+$/)
    const b = await Bcache.create<string>({ listenAddr: '[::1]:0', peers: [a.address], maxKeys: 1000, profile: 'local' })
    nodes.push(b)
    a.set('k', 'v6')
    await waitFor(() => b.get('k') === 'v6', 5_000)
    await waitFor(() => [a, b].every((n) => n.members().filter((m) => m.state === 'alive').length === 2), 5_000)
    expect(b.members().map((m) => m.address).sort()).to.deep.equal([a.address, b.address].sort())
  })

  it('a refused join names the reason over real TCP', async () => {
    const key = Buffer.alloc(32, 7)
    const a = await Bcache.create<string>({ listenAddr: '[::1]:0', maxKeys: 1000, profile: 'local', secretKeys: [key] })
    nodes.push(a)
    const err = await Bcache.create<string>({ listenAddr: '[::1]:0', peers: [a.address], maxKeys: 1000, profile: 'local', label: 'other', secretKeys: [key] })
      .then((n) => { nodes.push(n); return undefined }, (e: unknown) => e)
    expect(err).to.be.instanceOf(JoinError)
    expect((err as Error).message).to.include(`seed ${a.address} refused the join: label mismatch (this node's label 'other', the seed expects another)`)
  })
})
