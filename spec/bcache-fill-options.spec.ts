import { expect } from 'chai'
import { checkFillCallOptions } from '../lib/fill/filler-options.js'
import { CacheCluster } from './support/cache-cluster.js'

describe('getWithFiller options', () => {
  it('are checked on a hit as on a miss (before the lookup)', async () => {
    const c = new CacheCluster(11)
    const [a] = await c.start(1)
    a!.set('k', 'v')
    const errorOf = async (p: Promise<unknown>): Promise<unknown> => c.settle(p.then(() => undefined, (e: unknown) => e))
    // Before: a hit returned the value and the bad option went unnoticed.
    const cases: Array<[object, typeof Error, RegExp]> = [
      [{ ttl: -1 }, RangeError, /^option ttl: /],
      [{ ttl: '5' }, TypeError, /^option ttl: /],
      [{ timeoutMs: Infinity }, RangeError, /^option timeoutMs: /],
      [{ signal: {} }, TypeError, /^option signal: must be an AbortSignal/]
    ]
    for (const [opts, type, re] of cases) {
      for (const key of ['k', 'missing']) {
        const err = await errorOf(a!.getWithFiller(key, () => 'filled', opts as never))
        expect(err, `${key} ${JSON.stringify(opts)}`).to.be.instanceOf(type)
        expect((err as Error).message).to.match(re)
      }
    }
    expect(await errorOf(a!.getWithFiller('k', () => 'x', null as never))).to.be.instanceOf(TypeError)
    expect(a!.get('missing')).to.equal(undefined)
    expect(await c.settle(a!.getWithFiller('k', () => 'x', { ttl: 5, timeoutMs: 0, signal: new AbortController().signal }))).to.equal('v')
    await c.closeAll()
  })

  it('checkFillCallOptions returns valid options as given', () => {
    const o = { ttl: 0, timeoutMs: 10 }
    expect(checkFillCallOptions(o)).to.equal(o)
    expect(checkFillCallOptions({})).to.deep.equal({})
  })
})
