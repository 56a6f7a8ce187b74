/**
 * Failure-detection benchmark: N member-node processes on loopback with the
 * lan profile.
 *
 * 1. detection: SIGKILL one node, measure the time until every survivor has
 *    emitted `fail` for it (median of --trials).
 * 2. stall: one healthy node busy-loops its event loop --stall-ms every
 *    --stall-every-ms for --stall-seconds; count how often any node declared
 *    a healthy node dead (and how often one was suspected).
 *
 * Usage: node dist/benchmarks/failure-detection.js [--nodes 10] [--trials 5]
 *        [--stall-seconds 30] [--stall-ms 100] [--stall-every-ms 1000] [--skip-stall] [--skip-detect]
 */
import { parseArgs } from 'node:util'
import { killAll, spawnCluster, waitForAlive, type NodeProcess } from '../tools/cluster-processes.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    trials: { type: 'string', default: '5' },
    'stall-seconds': { type: 'string', default: '30' },
    'stall-ms': { type: 'string', default: '100' },
    'stall-every-ms': { type: 'string', default: '1000' },
    profile: { type: 'string', default: 'lan' },
    'skip-stall': { type: 'boolean', default: false },
    'skip-detect': { type: 'boolean', default: false }
  }
})
const n = Number(values.nodes)
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function detectionTrial(trial: number): Promise<number> {
  const nodes = await spawnCluster(n, () => ['--profile', values.profile!])
  try {
    await waitForAlive(nodes, n)
    await sleep(2000) // let probing settle into its rhythm
    const victim = nodes[1 + (trial % (n - 1))]!
    const survivors = nodes.filter((x) => x !== victim)
    const killedAt = Date.now()
    victim.child.kill('SIGKILL')
    const deadline = killedAt + 60_000
    const failAt = (s: NodeProcess): number | undefined =>
      s.events.find((e) => e.event === 'fail' && e.nodeId === victim.nodeId && e.at >= killedAt)?.at
    while (Date.now() < deadline && !survivors.every((s) => failAt(s) !== undefined)) await sleep(50)
    const times = survivors.map(failAt)
    if (times.some((t) => t === undefined)) throw new Error(`trial ${trial}: not every survivor marked ${victim.nodeId} dead within 60 s`)
    return Math.max(...(times as number[])) - killedAt
  } finally {
    await killAll()
  }
}

async function stallRun(): Promise<{ falseDeaths: number; suspicions: number }> {
  const stalled = 3
  const nodes = await spawnCluster(n, (i) => ['--profile', values.profile!,
    ...(i === stalled ? ['--stall-ms', values['stall-ms']!, '--stall-every-ms', values['stall-every-ms']!] : [])])
  try {
    await waitForAlive(nodes, n)
    const from = Date.now()
    await sleep(Number(values['stall-seconds']) * 1000)
    let falseDeaths = 0
    let suspicions = 0
    for (const node of nodes) {
      for (const e of node.events) {
        if (e.at < from) continue
        if (e.event === 'fail') falseDeaths++
        if (e.event === 'update' && e.state === 'suspect') suspicions++
      }
    }
    return { falseDeaths, suspicions }
  } finally {
    await killAll()
  }
}

async function main(): Promise<void> {
  console.log(`failure detection: ${n} processes on 127.0.0.1, profile ${values.profile}`)
  if (!values['skip-detect']) {
    const times: number[] = []
    for (let t = 0; t < Number(values.trials); t++) {
      const ms = await detectionTrial(t)
      times.push(ms)
      console.log(`  trial ${t + 1}: all ${n - 1} survivors marked the killed node dead after ${(ms / 1000).toFixed(2)} s`)
    }
    console.log(`detection median: ${(median(times) / 1000).toFixed(2)} s over ${times.length} trials ` +
      `(min ${(Math.min(...times) / 1000).toFixed(2)} s, max ${(Math.max(...times) / 1000).toFixed(2)} s); memberlist reference 5.8 s`)
  }
  if (!values['skip-stall']) {
    const r = await stallRun()
    console.log(`stall: one node stalled ${values['stall-ms']} ms every ${values['stall-every-ms']} ms for ${values['stall-seconds']} s: ` +
      `${r.falseDeaths} false deaths, ${r.suspicions} suspicions (target 0 false deaths)`)
  }
}

process.on('SIGINT', () => void killAll().then(() => process.exit(130)))
main().catch(async (err: unknown) => {
  console.error(err)
  await killAll()
  process.exit(1)
})
