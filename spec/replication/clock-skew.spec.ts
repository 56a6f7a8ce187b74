import { expect } from 'chai'
import type { Bcache } from '../../lib/bcache.js'
import type { Version, VersionedStore } from '../../lib/store/versioned-store.js'
import { compareVersions } from '../../lib/store/version.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'
import { SkewedClock } from '../support/skewed-clock.js'

/** The version `node` holds for `key` (read through the node's parts, like the simulator's oracle). */
function versionOf(node: Bcache<unknown>, key: string): Version {
  const parts = node as unknown as { p?: { store: VersionedStore }; store?: VersionedStore }
  const store = parts.p?.store ?? parts.store!
  return store.peek(key)!.version
}

describe('Writes under clock skew (cluster, per-node clocks)', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  // Defect: a peer 10 minutes ahead (past the drift guard) outranked every
  // local write to the key it wrote: `set` was accepted and not visible.
  it('a node 10 minutes ahead writes k; a node on time then writes k: both read the later write', async () => {
    cluster = new CacheCluster(61)
    const { node: l } = await addClusterNode(cluster, { nodeId: 'l' }, { seed: 1 })
    const { node: f } = await addClusterNode(cluster, { nodeId: 'f' }, { seed: 2, clock: new SkewedClock(cluster.clock, 10 * 60_000) })
    await cluster.until(() => l.members().filter((m) => m.state === 'alive').length === 2, 10_000)
    f.set('k', 'from-f')
    await cluster.until(() => l.get('k') === 'from-f', 5_000)
    expect(l.get('k')).to.equal('from-f')
    l.set('k', 'from-l')
    expect(l.get('k'), 'the writer reads its own write').to.equal('from-l')
    const took = await cluster.until(() => f.get('k') === 'from-l', 5_000)
    expect(took, 'f reads l\'s write').to.be.greaterThan(-1)
    await cluster.run(3_000)
    expect([l.get('k'), f.get('k')]).to.deep.equal(['from-l', 'from-l'])
  })

  // Mutant this catches: the hybrid clock no longer observing remote versions.
  it('a node that received a version from a slightly-ahead peer stamps its next write to another key above it', async () => {
    cluster = new CacheCluster(62)
    const { node: a } = await addClusterNode(cluster, { nodeId: 'a' }, { seed: 1 })
    const { node: b } = await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2, clock: new SkewedClock(cluster.clock, 5_000) })
    await cluster.until(() => a.members().filter((m) => m.state === 'alive').length === 2, 10_000)
    b.set('x', 1)
    await cluster.until(() => a.get('x') === 1, 5_000)
    a.set('y', 2)
    expect(compareVersions(versionOf(a, 'y'), versionOf(a, 'x')), 'y above x').to.equal(1)
  })
})
