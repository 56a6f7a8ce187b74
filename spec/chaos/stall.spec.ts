/**
 * Chaos 4: 5 processes on 127.0.0.1; one node's event loop is blocked for
 * 100–1000 ms (uniform) every 1.5 s while the others write. Nobody may be
 * declared dead: not the stalled node (it is slow, not gone), and not the
 * others by the stalled node (Lifeguard: it must blame itself). Afterwards
 * the cluster converges with no acknowledged write lost.
 *
 * Profile: `CHAOS_STALL_PROFILE` (default 'lan', the default profile); see
 * benchmarks/README.md for what 'local' does under the same stalls.
 */
import { expect } from 'chai'
import { killAllChaos, spawnChaosCluster, waitForAliveMembers, type ChaosEvent } from '../../tools/chaos-cluster.js'
import { WriteChecker } from './checker.js'
import { describeCheck, falseDeaths, printFigures, scaled, sleep, Writer } from './harness.js'

const profile = (process.env.CHAOS_STALL_PROFILE ?? 'lan') as 'lan' | 'local' | 'wan'

describe(`chaos: one node stalled 100-1000 ms repeatedly (5 processes, ${profile})`, function () {
  this.timeout(90_000)
  const events: ChaosEvent[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('declares no healthy node dead, and converges with no acknowledged write lost', async () => {
    const nodes = await spawnChaosCluster(5, events, { prefix: 'stall', profile })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    const stalled = nodes[4]!
    const writers = nodes.slice(0, 4).map((n, i) => new Writer(`w${i}`, n, checker, { shared: 50 }))
    await stalled.call('stall', { minMs: 100, maxMs: 1000, everyMs: 1500 })
    await sleep(scaled(9_000))
    const stalls = await stalled.call<{ stalls: number; totalMs: number; maxMs: number }>('stopStall', {}, 20_000)
    await Promise.all(writers.map((w) => w.stop()))
    const { ms, result } = await checker.waitConverged(nodes, 30_000)
    const deaths = falseDeaths(events, nodes.map((n) => n.nodeId))
    printFigures(`stall 100-1000 ms every 1.5 s (${profile})`, {
      writes: checker.acknowledged,
      keys: result.strictKeys,
      stalls: stalls.stalls,
      stalledMs: stalls.totalMs,
      longestStallMs: stalls.maxMs,
      convergeMs: ms,
      suspicions: events.filter((e) => e.event === 'suspect').length,
      falseDeaths: deaths.length,
      lostWrites: result.lost
    })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(result.lost).to.equal(0)
    expect(deaths, JSON.stringify(deaths)).to.have.length(0)
  })
})
