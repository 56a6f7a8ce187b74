/**
 * Joining: retries with backoff while the seeds are not up yet, bounded by
 * `joinTimeoutMs`; the first node starts at once; the backoff formula.
 */
import { expect } from 'chai'
import { Bcache } from '../../lib/bcache.js'
import type { BcacheOptions } from '../../lib/bcache-options.js'
import { JoinError } from '../../lib/errors.js'
import { joinBackoffMs } from '../../lib/membership/join.js'
import { seededRandom } from '../../lib/random.js'
import { CacheCluster } from '../support/cache-cluster.js'

/** Starts a node on `cluster`'s network without waiting for it (the cluster does not track it). */
function createOn(cluster: CacheCluster, opts: Partial<BcacheOptions>, seed = 7): Promise<Bcache<unknown>> {
  return Bcache.create<unknown>(
    { maxKeys: 1000, profile: 'lan', listenAddr: undefined as unknown as string, ...opts },
    { transport: cluster.net.bind(), clock: cluster.clock, random: seededRandom(seed), defer: (fn) => cluster.clock.setTimeout(fn, 0) }
  )
}

describe('joinBackoffMs', () => {
  const table: Array<[number, number, number]> = [
    // attempt, random, expected ms (base 200, cap 5000)
    [0, 0, 100], [0, 0.999999, 200], [1, 0, 200], [2, 0.5, 600], [4, 0, 1600], [5, 1 - 1e-9, 5000], [40, 0, 2500]
  ]
  for (const [attempt, r, want] of table) {
    it(`attempt ${attempt}, random ${r}: ${want} ms`, () => {
      expect(joinBackoffMs(attempt, () => r)).to.be.closeTo(want, 0.01)
    })
  }
})

describe('Bcache.create joining seeds that are not up yet', function () {
  this.timeout(60_000)
  const SEED = '127.1.9.1:7946'
  let cluster: CacheCluster
  const extra: Array<Bcache<unknown>> = []

  afterEach(async () => {
    await cluster.settle(Promise.all(extra.splice(0).map((n) => n.close())))
    await cluster.closeAll()
  })

  it('retries until the seed starts (3 s later) and resolves after it is up', async () => {
    cluster = new CacheCluster(41)
    const t0 = cluster.clock.now()
    let joinedAt = -1
    const pB = createOn(cluster, { nodeId: 'b', peers: [SEED] }).then((b) => { joinedAt = cluster.clock.now(); extra.push(b); return b })
    await cluster.run(3000)
    expect(joinedAt, 'still joining while the seed is down').to.equal(-1)
    const a = await cluster.add({ nodeId: 'a' }, SEED)
    const startedA = cluster.clock.now()
    const b = await cluster.settle(pB)
    expect(joinedAt).to.be.at.least(startedA)
    expect(joinedAt - t0).to.be.below(10_000)
    a.set('k', 'v')
    await cluster.until(() => b.get('k') === 'v', 5000)
    expect(b.members().map((m) => m.nodeId).sort()).to.deep.equal(['a', 'b'])
  })

  it('rejects with JoinError after a short joinTimeoutMs, naming the seed and the attempts', async () => {
    cluster = new CacheCluster(42)
    const t0 = cluster.clock.now()
    const err = await cluster.settle(createOn(cluster, { nodeId: 'b', peers: [SEED], joinTimeoutMs: 1500, tuning: { tcpTimeoutMs: 200 } }).then(
      (b) => { extra.push(b); return undefined },
      (e: unknown) => e
    ))
    expect(err).to.be.instanceOf(JoinError)
    expect((err as Error).message).to.match(/could not join through any seed after \d+ attempts over \d+ ms \(127\.1\.9\.1:7946: /)
    expect(cluster.clock.now() - t0).to.be.within(500, 2000)
  })

  it('joinTimeoutMs 0 fails after one attempt', async () => {
    cluster = new CacheCluster(43)
    const t0 = cluster.clock.now()
    const err = await cluster.settle(createOn(cluster, { peers: [SEED], joinTimeoutMs: 0, tuning: { tcpTimeoutMs: 200 } }).then(() => undefined, (e: unknown) => e))
    expect(err).to.be.instanceOf(JoinError)
    expect((err as Error).message).to.not.match(/attempts/)
    expect(cluster.clock.now() - t0).to.be.below(400)
  })

  it('the first node (no seed but itself) starts at once', async () => {
    cluster = new CacheCluster(44)
    const t0 = cluster.clock.now()
    await cluster.add({ nodeId: 'first', peers: [SEED] }, SEED)
    await cluster.add({ nodeId: 'alone', peers: [] })
    expect(cluster.clock.now() - t0).to.be.below(100)
  })

  it('refuses a bad joinTimeoutMs or peerRefreshMs naming it', async () => {
    cluster = new CacheCluster(45)
    const cases: Array<[Partial<BcacheOptions>, ErrorConstructor, RegExp]> = [
      [{ joinTimeoutMs: -1 }, RangeError, /option joinTimeoutMs/],
      [{ peerRefreshMs: 1.5 }, RangeError, /option peerRefreshMs/],
      [{ peers: 'a:1' as unknown as string[] }, TypeError, /option peers/]
    ]
    for (const [opts, cls, re] of cases) {
      const err = await createOn(cluster, opts).then(() => undefined, (e: unknown) => e)
      expect(err, JSON.stringify(opts)).to.be.instanceOf(cls)
      expect((err as Error).message).to.match(re)
    }
  })
})
