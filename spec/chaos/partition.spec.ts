/**
 * Chaos 2: 5 processes on 127.0.0.1 split 2 | 3 (every node blocks the
 * other side's addresses in its fault stage), with writes on both sides,
 * also to shared keys both sides overwrite concurrently. Then heal: the
 * halves must merge back into one view of 5 members and converge, each
 * shared key ending on one side's last write, no acknowledged write lost.
 * Deaths across the partition are expected; deaths inside a side are not.
 */
import { expect } from 'chai'
import { killAllChaos, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode } from '../../tools/chaos-cluster.js'
import { WriteChecker } from './checker.js'
import { describeCheck, printFigures, scaled, sleep, Writer } from './harness.js'

describe('chaos: partition 2|3 with writes on both sides, then heal (5 processes)', function () {
  this.timeout(60_000)
  const events: ChaosEvent[] = []
  let nodes: ChaosNode[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('merges and converges after heal, with no acknowledged write lost', async () => {
    nodes = await spawnChaosCluster(5, events, { prefix: 'part' })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    const writers = nodes.map((n, i) => new Writer(`w${i}`, n, checker, { shared: 50 }))
    await sleep(scaled(1_000))
    const left = nodes.slice(0, 2), right = nodes.slice(2)
    const sideOf = (n: ChaosNode): ChaosNode[] => (left.includes(n) ? right : left)
    const cutAt = Date.now()
    await Promise.all(nodes.map((n) => n.isolate(sideOf(n).map((m) => m.address))))
    await sleep(scaled(4_000))
    await Promise.all(writers.map((w) => w.stop()))
    const before = await checker.check(nodes)
    const healAt = Date.now()
    await Promise.all(nodes.map((n) => n.heal()))
    // both measured from the heal
    const [{ ms, result }, membersMs] = await Promise.all([checker.waitConverged(nodes, 30_000), waitForAliveMembers(nodes, 5, 30_000)])
    // during the cut, deaths inside a side are false; those across it are expected
    const during = events.filter((e) => e.event === 'fail' && e.at >= cutAt && e.at < healAt)
    const sameSide = during.filter((e) => left.some((n) => n.nodeId === e.by) === left.some((n) => n.nodeId === e.nodeId))
    const acrossDeaths = during.length - sameSide.length
    // after the heal: verdicts about the other side that expired, or spread, before the victims refuted them
    const afterHeal = events.filter((e) => e.event === 'fail' && e.at >= healAt).length
    printFigures('partition 2|3, heal', {
      writes: checker.acknowledged,
      keys: result.strictKeys,
      divergedAtHeal: !before.agree,
      deathsAcross: acrossDeaths,
      deathsAfterHeal: afterHeal,
      convergeMs: ms,
      membersMergedMs: membersMs,
      falseDeaths: sameSide.length,
      lostWrites: result.lost
    })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(result.lost).to.equal(0)
    expect(sameSide, JSON.stringify(sameSide)).to.have.length(0)
  })
})
