/**
 * Chaos 1: 5 processes on 127.0.0.1, every datagram through a fault stage
 * with 20 % loss, 0–20 ms delay (so reordering) and 5 % duplication, while
 * every node writes. Then the faults stop: the cluster must converge with no
 * acknowledged write lost, and no node may have been declared dead.
 */
import { expect } from 'chai'
import { killAllChaos, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode } from '../../tools/chaos-cluster.js'
import { WriteChecker } from './checker.js'
import { describeCheck, falseDeaths, faultTotals, printFigures, scaled, sleep, Writer } from './harness.js'

describe('chaos: 20% loss, 0-20 ms delay, 5% duplication (5 processes)', function () {
  this.timeout(60_000)
  const events: ChaosEvent[] = []
  let nodes: ChaosNode[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('converges after the faults stop, with no acknowledged write lost and no false death', async () => {
    nodes = await spawnChaosCluster(5, events, { prefix: 'loss' })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    await Promise.all(nodes.map((n) => n.setFaults({ lossRate: 0.2, minDelayMs: 0, maxDelayMs: 20, duplicateRate: 0.05 })))
    const writers = nodes.map((n, i) => new Writer(`w${i}`, n, checker, { shared: 50 }))
    await sleep(scaled(5_000))
    await Promise.all(writers.map((w) => w.stop()))
    const during = await checker.check(nodes)
    const injected = await faultTotals(nodes)
    await Promise.all(nodes.map((n) => n.setFaults({})))
    const { ms, result } = await checker.waitConverged(nodes, 20_000)
    const deaths = falseDeaths(events, nodes.map((n) => n.nodeId))
    printFigures('loss 20% + delay 0-20 ms + dup 5%', {
      writes: checker.acknowledged,
      keys: result.strictKeys,
      lostAtFaultEnd: during.lost,
      datagramsLost: injected.lost,
      duplicated: injected.duplicated,
      convergeMs: ms,
      falseDeaths: deaths.length,
      suspicions: events.filter((e) => e.event === 'suspect').length,
      lostWrites: result.lost
    })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(result.lost).to.equal(0)
    expect(deaths, JSON.stringify(deaths)).to.have.length(0)
  })
})
