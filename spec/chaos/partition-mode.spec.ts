/**
 * Chaos for `mode: 'partition'`, replicas 2: 5 processes on 127.0.0.1, all
 * writing (also to shared keys). One node is SIGKILLed (fewer than
 * `replicas` at once) and later restarted at the same address and node id;
 * then the network splits 2 | 3 with writes on both sides, and heals.
 *
 * After quiescence, for every key, over the 5 live node ids: its 2 owners
 * (`ownersOf`) both *store* it (their store, not a near-cache copy) with the
 * same value, and that value is the last acknowledged write of one of the
 * writers that wrote the key (a delete: neither owner stores it); no other
 * node stores it (every hand-off ended). As in checker.ts, the keys of the
 * killed node's writer are at risk (a write it acknowledged a millisecond
 * before the kill may never have left it): they are checked for agreement of
 * their owners only, and the report counts how many survived anyway.
 */
import { expect } from 'chai'
import { ownersOf } from '../../lib/index.js'
import {
  killAllChaos, killChaosNode, restartChaosNode, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode
} from '../../tools/chaos-cluster.js'
import { pollUntil } from '../../tools/wait.js'
import { WriteChecker } from './checker.js'
import { printFigures, scaled, sleep, Writer } from './harness.js'

const REPLICAS = 2

interface Placement {
  /** Strict keys whose owners do not both store an allowed value, or disagree. */
  bad: string[]
  /** At-risk keys whose owners disagree. */
  diverged: string[]
  /** Stored copies on nodes that do not own the key. */
  extra: string[]
  strictKeys: number
  atRiskKeys: number
  atRiskSurvived: number
}

/** Checks placement and values of every written key on `nodes` (see the file comment). */
async function placement(nodes: readonly ChaosNode[], checker: WriteChecker, labels: readonly string[], atRisk: ReadonlySet<string>): Promise<Placement> {
  const keys = checker.keys()
  const ids = nodes.map((n) => n.nodeId)
  const stored = await Promise.all(nodes.map((n) => n.call<Array<string | null>>('stored', { keys })))
  const out: Placement = { bad: [], diverged: [], extra: [], strictKeys: 0, atRiskKeys: 0, atRiskSurvived: 0 }
  keys.forEach((key, k) => {
    const owners = ownersOf(key, ids, REPLICAS).map((id) => ids.indexOf(id))
    nodes.forEach((n, i) => {
      if (!owners.includes(i) && stored[i]![k] !== null) out.extra.push(`${key}@${n.nodeId}`)
    })
    const held = owners.map((i) => stored[i]![k]!)
    const writers = labels.filter((w) => checker.lastOf(w, key) !== undefined)
    const allowed = writers.map((w) => checker.lastOf(w, key)!)
    const agree = held.every((v) => v === held[0])
    const show = (): string => `${key}: ${owners.map((i) => `${ids[i]}=${String(stored[i]![k])}`).join(' ')} allowed=${JSON.stringify(allowed)}`
    if (writers.some((w) => atRisk.has(w))) {
      out.atRiskKeys++
      if (!agree) out.diverged.push(show())
      else if (allowed.includes(held[0]!)) out.atRiskSurvived++
      return
    }
    out.strictKeys++
    if (!agree || !allowed.includes(held[0]!)) out.bad.push(show())
  })
  return out
}

describe("chaos: mode partition (replicas 2), SIGKILL + restart of one node, partition 2|3 and heal, during writes (5 processes)", function () {
  this.timeout(90_000)
  const events: ChaosEvent[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('after quiescence every key is stored by its 2 owners with its newest acknowledged write, and by no other node', async () => {
    const nodes = await spawnChaosCluster(5, events, { prefix: 'pm', mode: 'partition', replicas: REPLICAS, tuning: { antiEntropyIntervalMs: 300 } })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    const atRisk = new Set<string>()
    const writers = nodes.map((n, i) => new Writer(`w${i}`, n, checker, { shared: 30 }))
    await sleep(scaled(1_500))

    // one node killed (fewer than replicas at once), the others keep writing, then it restarts
    const victim = nodes[4]!
    await killChaosNode(victim)
    await writers[4]!.stop()
    atRisk.add(writers[4]!.label)
    await sleep(scaled(2_000))
    const restarted = await restartChaosNode(victim, [nodes[0]!.address], events)
    const live = [...nodes.slice(0, 4), restarted]
    const late = new Writer('r4', restarted, checker, { shared: 30 })
    const active = [...writers.slice(0, 4), late]
    await waitForAliveMembers(live, 5, 30_000)
    await sleep(scaled(1_500))

    // a partition 2 | 3 with writes on both sides, then heal
    const left = live.slice(0, 2), right = live.slice(2)
    await Promise.all(live.map((n) => n.isolate((left.includes(n) ? right : left).map((m) => m.address))))
    await sleep(scaled(3_000))
    await Promise.all(active.map((w) => w.stop()))
    const healAt = Date.now()
    await Promise.all(live.map((n) => n.heal()))
    const membersMs = await waitForAliveMembers(live, 5, 30_000)

    const labels = [...writers, late].map((w) => w.label)
    let last: Placement | undefined
    const settled = await pollUntil(async () => {
      last = await placement(live, checker, labels, atRisk)
      return last.bad.length === 0 && last.diverged.length === 0 && last.extra.length === 0
    }, 30_000, () => '', 200).then(() => true, () => false)
    const settledMs = Date.now() - healAt
    const stats = await Promise.all(live.map((n) => n.call<{ partition: { handedOff: number; sync: { rounds: number; failed: number } } }>('stats')))
    printFigures('partition mode: SIGKILL 1 + restart, partition 2|3, heal', {
      writes: checker.acknowledged,
      keys: last!.strictKeys,
      membersMs,
      settledMs: settled ? settledMs : -1,
      atRiskKeys: last!.atRiskKeys,
      atRiskSurvived: last!.atRiskSurvived,
      handedOff: stats.reduce((s, x) => s + x.partition.handedOff, 0),
      syncRounds: stats.reduce((s, x) => s + x.partition.sync.rounds, 0),
      syncFailed: stats.reduce((s, x) => s + x.partition.sync.failed, 0),
      misplaced: last!.bad.length,
      diverged: last!.diverged.length,
      extraCopies: last!.extra.length
    })
    for (const w of active) expect(w.error, w.label).to.equal(undefined)
    expect(last!.bad, 'owners missing the newest acknowledged write').to.deep.equal([])
    expect(last!.diverged, 'owners of at-risk keys disagree').to.deep.equal([])
    expect(last!.extra.slice(0, 10), 'copies left on non-owners').to.deep.equal([])
    expect(settled).to.equal(true)
  })
})
