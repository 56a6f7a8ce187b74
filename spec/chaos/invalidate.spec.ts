/**
 * Chaos for `mode: 'invalidate'`: 5 processes on 127.0.0.1, every one
 * writing (also to shared keys), a partition 2 | 3 with writes on both
 * sides, then heal. Values never travel in this mode, so after the heal the
 * check is coherence, not agreement: for every key, at most one node holds
 * a value (the writer of the newest write; every other copy was
 * invalidated), and what it holds is its own last acknowledged write of the
 * key — no node reads a value older than the newest write it has heard of.
 */
import { expect } from 'chai'
import { killAllChaos, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode } from '../../tools/chaos-cluster.js'
import { pollUntil } from '../../tools/wait.js'
import { WriteChecker } from './checker.js'
import { printFigures, scaled, sleep, Writer } from './harness.js'

/** Keys on which the nodes break coherence now (see the file comment), with what each node read. */
async function incoherent(nodes: ChaosNode[], writers: Writer[], keys: string[], last: (writer: string, key: string) => string | null | undefined): Promise<string[]> {
  const reads = await Promise.all(nodes.map((n) => n.call<Array<string | null>>('values', { keys })))
  const bad: string[] = []
  keys.forEach((key, k) => {
    const holders = nodes.map((_, i) => i).filter((i) => reads[i]![k] !== null)
    const own = holders.every((i) => last(writers[i]!.label, key) === reads[i]![k])
    if (holders.length > 1 || !own) bad.push(`${key}: ${nodes.map((n, i) => `${n.nodeId}=${reads[i]![k]}`).join(' ')}`)
  })
  return bad
}

describe("chaos: mode invalidate, partition 2|3 with writes on both sides, then heal (5 processes)", function () {
  this.timeout(60_000)
  const events: ChaosEvent[] = []
  let nodes: ChaosNode[] = []

  afterEach(async () => {
    await killAllChaos()
  })

  it('after the heal, every key is held by at most one node, its own newest write', async () => {
    nodes = await spawnChaosCluster(5, events, { prefix: 'inv', mode: 'invalidate' })
    await waitForAliveMembers(nodes, 5)
    const checker = new WriteChecker()
    const writers = nodes.map((n, i) => new Writer(`w${i}`, n, checker, { shared: 30 }))
    await sleep(scaled(1_000))
    const left = nodes.slice(0, 2), right = nodes.slice(2)
    await Promise.all(nodes.map((n) => n.isolate((left.includes(n) ? right : left).map((m) => m.address))))
    await sleep(scaled(3_000))
    await Promise.all(writers.map((w) => w.stop()))
    const healAt = Date.now()
    await Promise.all(nodes.map((n) => n.heal()))
    await waitForAliveMembers(nodes, 5, 30_000)
    const keys = checker.keys()
    let bad: string[] = []
    const ok = await pollUntil(async () => (bad = await incoherent(nodes, writers, keys, (w, k) => checker.lastOf(w, k))).length === 0, 30_000, () => '', 100).then(() => true, () => false)
    printFigures('invalidate: partition 2|3, heal', { writes: checker.acknowledged, keys: keys.length, coherentAfterMs: Date.now() - healAt, incoherentKeys: bad.length })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ok, bad.slice(0, 5).join('\n')).to.equal(true)
  })
})
