/**
 * Reconnection after a partition that outlasted `reapDeadAfterMs`, with the
 * seeds gone: the two sides only know each other from addresses they
 * reaped. (Found by the whole-cluster simulator: two survivors stayed
 * split for good.)
 */
import { expect } from 'chai'
import { Cluster, state } from '../support/cluster.js'

describe('Membership reconnection after a long partition', () => {
  let cluster: Cluster | undefined

  afterEach(async () => {
    await cluster?.closeAll()
    cluster = undefined
  })

  it('two survivors that reaped each other reconnect once the partition heals, although their seed is dead', async () => {
    cluster = new Cluster(91, { profile: 'local' })
    const [seed, a, b] = await cluster.start(3)
    await cluster.crash(seed!)
    cluster.net.partition([a!.address], [b!.address])
    // Well past reapDeadAfterMs (10 s on `local`): each side forgot the other.
    await cluster.run(30_000)
    expect(state(a!, b!.nodeId)).to.equal(undefined)
    expect(state(b!, a!.nodeId)).to.equal(undefined)
    cluster.net.heal()
    const took = await cluster.until(() => state(a!, b!.nodeId) === 'alive' && state(b!, a!.nodeId) === 'alive', 30_000)
    expect(took).to.be.greaterThan(-1)
  })
})
