import { expect } from 'chai'
import { Bcache } from '../../lib/index.js'
import { pollUntil } from '../../tools/wait.js'

/** Polls `predicate` every 5 ms until it holds; fails after `timeoutMs`. */
const waitFor = (predicate: () => boolean, timeoutMs: number): Promise<number> =>
  pollUntil(predicate, timeoutMs, () => 'condition not met in time', 5)

describe('Bcache on real sockets (127.0.0.1, port 0)', function () {
  this.timeout(30_000)
  const nodes: Array<{ close(): Promise<void> }> = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })

  it("runs the seed README's quick start: set on servers 1 and 2, get on server 3", async () => {
    const s1 = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: 1000, profile: 'local' })
    nodes.push(s1)
    s1.set('my_key', 'my_val')
    const s2 = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [s1.address], maxKeys: 1000, profile: 'local' })
    nodes.push(s2)
    s2.set('my_key2', 'my_val2')
    const s3 = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [s1.address], maxKeys: 1000, profile: 'local' })
    nodes.push(s3)
    await waitFor(() => s3.get('my_key2') !== undefined && s3.get('my_key') !== undefined, 5_000)
    expect(s3.get('my_key2')).to.equal('my_val2')
    expect(s3.get('my_key')).to.equal('my_val')
    expect(s3.members()).to.have.length(3)
  })

  it('a fill storm of 1,000 concurrent calls on each of 3 nodes runs the filler exactly once', async () => {
    const a = await Bcache.create<{ n: number }>({ listenAddr: '127.0.0.1:0', maxKeys: 1000, profile: 'local' })
    nodes.push(a)
    const b = await Bcache.create<{ n: number }>({ listenAddr: '127.0.0.1:0', peers: [a.address], maxKeys: 1000, profile: 'local' })
    nodes.push(b)
    const c = await Bcache.create<{ n: number }>({ listenAddr: '127.0.0.1:0', peers: [a.address], maxKeys: 1000, profile: 'local' })
    nodes.push(c)
    await waitFor(() => [a, b, c].every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 5_000)
    let calls = 0
    const filler = async (): Promise<{ n: number }> => {
      calls++
      await new Promise((r) => setTimeout(r, 50))
      return { n: 42 }
    }
    const all = [a, b, c].flatMap((n) => Array.from({ length: 1000 }, () => n.getWithFiller('db-row', filler, { ttl: 60_000 })))
    const values = await Promise.all(all)
    expect(calls).to.equal(1)
    expect(values.every((v) => v.n === 42)).to.equal(true)
    for (const n of [a, b, c]) expect(n.get('db-row')).to.deep.equal({ n: 42 })
  })

  it('rejects bad arguments with clear errors and changes nothing', async () => {
    const a = await Bcache.create<unknown>({ listenAddr: '127.0.0.1:0', maxKeys: 10, profile: 'local' })
    nodes.push(a)
    expect(() => a.set('', 1)).to.throw(TypeError, 'empty')
    expect(() => a.set(5 as unknown as string, 1)).to.throw(TypeError)
    expect(() => a.set('k', () => 1)).to.throw(TypeError)
    expect(() => a.set('k', 1, { ttl: -5 })).to.throw(RangeError, 'ttl')
    expect(a.stats().keys).to.equal(0)
    let err: unknown
    try {
      await Bcache.create({ listenAddr: '127.0.0.1:0', maxKeys: 0 })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
    expect(String(err)).to.contain('maxKeys')
    await a.close()
    expect(() => a.set('k', 1)).to.throw(/closed/)
  })
})
