/**
 * Chaos 3: 5 processes on 127.0.0.1, all writing; two are SIGKILLed in the
 * middle of the writes, the other three keep writing, then the two are
 * restarted at the same address and node id (new processes, so new write
 * origins) and write under new labels. The cluster must converge on 5
 * members with no acknowledged write of a surviving writer lost.
 *
 * "Acknowledged" here means acknowledged by a writer that survived: a write
 * a node acknowledged a millisecond before it was killed may never have left
 * it. The killed writers' keys are checked for agreement only, and the
 * report says how many of them survived anyway.
 */
import { expect } from 'chai'
import {
  killAllChaos, killChaosNode, restartChaosNode, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode
} from '../../tools/chaos-cluster.js'
import { WriteChecker } from './checker.js'
import { describeCheck, falseDeaths, printFigures, scaled, sleep, Writer } from './harness.js'

describe('chaos: SIGKILL and restart of 2 nodes during writes (5 processes)', function () {
  this.timeout(60_000)
  const events: ChaosEvent[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('converges after the restart, with no acknowledged write of a survivor lost', async () => {
    const nodes = await spawnChaosCluster(5, events, { prefix: 'kill' })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    const writers = nodes.map((n, i) => new Writer(`w${i}`, n, checker, { shared: 50 }))
    await sleep(scaled(1_500))
    const victims = nodes.slice(3)
    const survivors = nodes.slice(0, 3)
    const killedAt = Date.now()
    await Promise.all(victims.map((v) => killChaosNode(v)))
    for (const w of writers.slice(3)) {
      await w.stop()
      checker.markAtRisk(w.label)
    }
    await sleep(scaled(2_000))
    const restartStart = performance.now()
    const restarted = await Promise.all(victims.map((v) => restartChaosNode(v, [survivors[0]!.address], events)))
    const restartMs = performance.now() - restartStart
    const restartedAt = Date.now()
    const live: ChaosNode[] = [...survivors, ...restarted]
    const late = restarted.map((n, i) => new Writer(`r${i + 3}`, n, checker, { shared: 50 }))
    await sleep(scaled(2_000))
    await Promise.all([...writers.slice(0, 3), ...late].map((w) => w.stop()))
    const [{ ms, result }, membersMs] = await Promise.all([checker.waitConverged(live, 30_000), waitForAliveMembers(live, 5, 30_000)])
    // deaths of the killed nodes are expected; of the others (and of the restarted ones after restart), not
    const deaths = [
      ...falseDeaths(events, survivors.map((n) => n.nodeId), killedAt - 60_000),
      ...falseDeaths(events, victims.map((n) => n.nodeId), restartedAt + 1_000)
    ]
    printFigures('SIGKILL 2 of 5 + restart', {
      writes: checker.acknowledged,
      keys: result.strictKeys,
      restartMs,
      convergeMs: ms,
      membersMs,
      atRiskKeys: result.atRiskKeys,
      atRiskSurvived: result.atRiskSurvived,
      falseDeaths: deaths.length,
      lostWrites: result.lost
    })
    for (const w of [...writers.slice(0, 3), ...late]) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(result.lost).to.equal(0)
    expect(deaths, JSON.stringify(deaths)).to.have.length(0)
  })
})
