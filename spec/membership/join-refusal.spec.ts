/**
 * A join refused for a security reason tells the joiner why, at once (no
 * retries: waiting does not fix a misconfiguration), and changes nothing
 * on the seed.
 */
import { expect } from 'chai'
import { JoinError } from '../../lib/errors.js'
import type { Bcache } from '../../lib/bcache.js'
import { CacheCluster, type CacheOptions } from '../support/cache-cluster.js'

const k1 = Buffer.alloc(32, 0x11)
const k2 = Buffer.alloc(32, 0x22)

describe('A join refused by the seed names the reason', function () {
  this.timeout(60_000)
  let cluster: CacheCluster
  let seed: Bcache<unknown>

  beforeEach(async () => {
    cluster = new CacheCluster(61, { secretKeys: [k1], label: 'blue' })
    seed = await cluster.add({ nodeId: 'seed' })
    seed.set('k', 1)
  })

  afterEach(async () => {
    await cluster.closeAll()
  })

  async function refusedJoin(opts: CacheOptions): Promise<Error> {
    const t0 = cluster.clock.now()
    const err = await cluster.add({ nodeId: 'joiner', ...opts, peers: [seed.address] }).then(() => undefined, (e: Error) => e)
    expect(err).to.be.instanceOf(JoinError)
    expect(cluster.clock.now() - t0, 'fails at once, not after joinTimeoutMs').to.be.below(1000)
    expect(seed.members().map((m) => m.nodeId)).to.deep.equal(['seed'])
    expect(seed.get('k')).to.equal(1)
    return err!
  }

  it('wrong key', async () => {
    const err = await refusedJoin({ secretKeys: [k2] })
    expect(err.message).to.include(`seed ${seed.address} refused the join: wrong key (the seed could not authenticate`)
    expect(err.message).to.not.include(k1.toString('hex'))
    expect(seed.stats().dropped['stream-decrypt-failed']).to.be.greaterThan(0)
  })

  it('missing key', async () => {
    const err = await refusedJoin({ secretKeys: undefined })
    expect(err.message).to.include(`seed ${seed.address} refused the join: missing key (this node sent unencrypted, the seed requires secretKeys)`)
  })

  it('other label', async () => {
    const err = await refusedJoin({ label: 'green' })
    expect(err.message).to.include(`seed ${seed.address} refused the join: label mismatch (this node's label 'green', the seed expects another)`)
  })

  it('no label where the seed has one', async () => {
    const err = await refusedJoin({ label: '' })
    expect(err.message).to.include(`refused the join: label mismatch (this node has no label, the seed expects one)`)
  })
})
