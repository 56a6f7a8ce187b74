import { expect } from 'chai'
import { coverageFingerprint } from '../../lib/replication/coverage-check.js'
import { VersionedStore } from '../../lib/store/versioned-store.js'
import { CacheCluster } from '../support/cache-cluster.js'

const store = (): VersionedStore => new VersionedStore({ maxKeys: 100, deletionDelayMs: 0 })

describe('Coverage check (anti-entropy, digest first)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster | undefined

  afterEach(async () => {
    await cluster?.closeAll()
    cluster = undefined
  })

  it('fingerprints equal coverage alike, whatever the order seen, and any difference apart', () => {
    const a = store(), b = store(), c = store()
    a.markSeen('o1', [[1, 10]]); a.markSeen('o2', [[1, 3]])
    b.markSeen('o2', [[1, 3]]); b.markSeen('o1', [[1, 5]]); b.markSeen('o1', [[6, 10]])
    c.markSeen('o1', [[1, 10]]); c.markSeen('o2', [[1, 4]])
    expect(coverageFingerprint(a.coverage())).to.equal(coverageFingerprint(b.coverage()))
    expect(coverageFingerprint(a.coverage())).to.not.equal(coverageFingerprint(c.coverage()))
  })

  // Defect (scale): a round between nodes in sync sent digests naming every
  // write origin, so idle cost grew with the number of writers.
  it('10 writers in sync: periodic rounds end at the check, and a node that missed writes still gets them', async () => {
    cluster = new CacheCluster(91, { tuning: { antiEntropyIntervalMs: 500 } })
    const nodes = await cluster.start(10)
    nodes.forEach((n, i) => { for (let k = 0; k < 20; k++) n.set(`w${i}:${k}`, 'v') })
    await cluster.run(5000)
    const before = nodes[0]!.stats().replication.antiEntropy
    await cluster.run(20_000)
    const after = nodes[0]!.stats().replication.antiEntropy
    const checks = after.inSync - before.inSync
    const bytes = after.bytesOut + after.bytesIn - before.bytesOut - before.bytesIn
    expect(checks, 'rounds ended at the check').to.be.greaterThan(10)
    expect(after.rounds - before.rounds, 'full rounds (only toward peers that answered the checks of others)').to.be.below(checks)
    expect(bytes / (checks + after.rounds - before.rounds), 'bytes per periodic round, 10 origins').to.be.below(100)
    // a lost write still gets repaired: block one node's pushes, write, heal
    const [x, y] = nodes
    for (const n of nodes.slice(1)) cluster.net.block(x!.address, n.address)
    x!.set('late', 'repair me')
    await cluster.run(200)
    for (const n of nodes.slice(1)) cluster.net.unblock(x!.address, n.address)
    expect(await cluster.until(() => nodes.every((n) => n.get('late') === 'repair me'), 30_000)).to.be.at.least(0)
    expect(y!.get('late')).to.equal('repair me')
  })
})
