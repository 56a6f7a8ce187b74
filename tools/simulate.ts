/**
 * `bcache-bench --simulate`: runs the real membership engine (SWIM +
 * Lifeguard) for many nodes in one process, on the in-memory network with a
 * manual clock and seeded randomness, so a run is repeatable and virtual
 * time costs only CPU.
 *
 * How a run goes, for one cluster size N:
 * 1. Bootstrap. Joining N nodes through one seed is O(N²) state transfer
 *    through that seed, so instead every node's member table is pre-seeded
 *    with every other node (their real incarnations and addresses) through
 *    `membership.preseedForBootstrap`, the bootstrap-only entry point: no
 *    re-broadcast is queued for them, so the cluster starts quiet. The nodes
 *    then run until their start-up self-announcements have drained;
 *    measurements start from that quiet, fully-formed cluster.
 * 2. Dissemination. One payload is injected at node 0 through the delegate
 *    seam. Each node's delegate, on first receipt, queues it in its own
 *    `TransmitQueue` (sent `retransmitMult × ceil(log10(N+1))` times, like any
 *    broadcast), so it spreads infection-style on gossip ticks and probes.
 *    Reported: virtual time and gossip rounds (`gossipIntervalMs` ticks) until
 *    every node has it, against the bound `ceil(log2 N) + 3`.
 * 3. Quiet period: nothing fails; every `fail` event is a false positive.
 *    Datagrams sent per node per second here are SWIM's steady-state load.
 * 4. Failure detection: one node is shut down (no leave); time until every
 *    survivor marks it dead. Then a new node joins through node 0 (a real
 *    push-pull join); time until every member knows it.
 *
 * Memory is the limit: every node holds every member, N² records in all
 * (about 27 bytes each in the roster's typed arrays, plus the probers'
 * probe orders on the V8 heap). A size whose estimate does not fit is
 * reported as skipped, not run.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { totalmem } from 'node:os'
import { getHeapStatistics } from 'node:v8'
import { resolveTuning, type MembershipTuning, type ProfileName } from '../lib/membership-entry.js'
import { bootstrap, createSim, measure } from './simulate-cluster.js'
import { formatScaleTable, formatTable, type SimulationReport } from './simulate-report.js'

export type { SimulationReport } from './simulate-report.js'

/** Settings of one simulated run. */
export interface SimulationOptions {
  /** Cluster size. */
  nodes: number
  /** Datagram loss, percent in [0, 100]. Streams (push-pull, TCP ping) are never lossy. @default 0 */
  lossPercent?: number
  /** One-way delay, uniform in [min, max] ms. @default [1, 5] */
  latencyMs?: [number, number]
  /** Seeds every random draw (nodes and network). @default 1 */
  seed?: number
  /** @default 'lan' */
  profile?: ProfileName
  /** Override of the profile's `gossipNodes`. */
  gossipNodes?: number
  /** Override of the profile's `gossipIntervalMs`. */
  gossipIntervalMs?: number
  /** Override of the profile's `retransmitMult` (membership and the injected payload). */
  retransmitMult?: number
  /** Length of the quiet period in virtual seconds. @default 60 */
  quietSeconds?: number
  /** Also measure failure detection and join spread. @default true */
  membershipEvents?: boolean
  /** Progress lines (to stderr in the CLI). @default none */
  progress?: (line: string) => void
}

/**
 * Estimated memory per member record (one node's view of one member): the
 * roster's typed-array columns (~27 B measured at N = 1,000 and 2,000, see
 * benchmarks/README.md) plus their spare capacity; off the V8 heap.
 */
const RECORD_BYTES = 40
/**
 * Estimated V8 heap per member record: each node's prober keeps its
 * shuffled probe order (one pointer per member, and the list it is rebuilt
 * from).
 */
const HEAP_BYTES_PER_RECORD = 24
/** Runs one simulated cluster of `opts.nodes` nodes and reports what it measured. */
export async function runSimulation(opts: SimulationOptions): Promise<SimulationReport> {
  const wallStart = performance.now()
  const n = opts.nodes
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`nodes must be an integer >= 2, got ${n}`)
  const lossPercent = opts.lossPercent ?? 0
  if (!(lossPercent >= 0 && lossPercent <= 100)) throw new RangeError(`lossPercent must be in [0, 100], got ${lossPercent}`)
  const latencyMs = opts.latencyMs ?? [1, 5]
  const seed = opts.seed ?? 1
  const profile = opts.profile ?? 'lan'
  const tuning = resolveTuning(profile, {
    ...(opts.gossipNodes !== undefined ? { gossipNodes: opts.gossipNodes } : {}),
    ...(opts.gossipIntervalMs !== undefined ? { gossipIntervalMs: opts.gossipIntervalMs } : {}),
    ...(opts.retransmitMult !== undefined ? { retransmitMult: opts.retransmitMult } : {})
  })
  const report = emptyReport(n, lossPercent, latencyMs, seed, profile, tuning, opts.quietSeconds ?? 60)
  const skipped = heapShortfall(n)
  if (skipped !== undefined) {
    report.skipped = skipped
    return report
  }
  const net = { lossRate: lossPercent / 100, minDelayMs: latencyMs[0], maxDelayMs: latencyMs[1] }
  const sim = createSim(n, seed, net, tuning, report, opts.progress ?? ((): void => {}))
  await bootstrap(sim)
  await measure(sim, opts.membershipEvents !== false)
  report.wallSeconds = (performance.now() - wallStart) / 1000
  report.memory.peakRssMiB = process.resourceUsage().maxRSS / 1024
  return report
}

/** A report with nothing measured yet (-1 / false / 0 until a phase fills it in). */
function emptyReport(n: number, lossPercent: number, latencyMs: [number, number], seed: number, profile: ProfileName,
  tuning: MembershipTuning, quietSeconds: number): SimulationReport {
  return {
    nodes: n, lossPercent, latencyMs, seed,
    tuning: { profile, gossipIntervalMs: tuning.gossipIntervalMs, gossipNodes: tuning.gossipNodes, retransmitMult: tuning.retransmitMult, probeIntervalMs: tuning.probeIntervalMs },
    bootstrap: { method: 'pre-seeded', drainMs: -1, drained: false },
    dissemination: {
      reached: 0, reachedAll: false, timeToAllMs: -1, rounds: -1, boundRounds: Math.ceil(Math.log2(n)) + 3, withinBound: false,
      timeToHalfMs: -1, timeTo99Ms: -1, timeTo9999Ms: -1, rounds99: -1, rounds9999: -1, model: { rounds99: -1, rounds9999: -1, ms99: -1, ms9999: -1 }
    },
    load: {
      quiet: { avg: 0, max: 0 }, dissemination: { avg: 0, max: 0, windowMs: 0 },
      quietTraffic: { packetsOut: 0, packetsIn: 0, bytesOut: 0, bytesIn: 0, maxPacketsOut: 0 }
    },
    quiet: { seconds: quietSeconds, falseDeaths: 0, falselyDeadNodes: 0, suspicions: 0 },
    heapMiB: 0,
    memory: { bytesPerRecord: -1, heapMiB: -1, externalMiB: -1, rssMiB: -1, peakRssMiB: -1 },
    wallSeconds: 0
  }
}

/** Why `n` nodes cannot run in this process's memory, or undefined when they can. */
function heapShortfall(n: number): string | undefined {
  const records = n * n
  const heapLimit = getHeapStatistics().heap_size_limit
  if (records * HEAP_BYTES_PER_RECORD > 0.85 * heapLimit) {
    return `needs ~${gib(records * HEAP_BYTES_PER_RECORD)} GiB of V8 heap for ${n}×${n} member records; limit is ${gib(heapLimit)} GiB ` +
      '(raise with node --max-old-space-size=MiB; bcache-bench --simulate sets it itself)'
  }
  if (records * RECORD_BYTES > 0.85 * totalmem()) {
    return `needs ~${gib(records * RECORD_BYTES)} GiB for ${n}×${n} member records; this machine has ${gib(totalmem())} GiB ` +
      '(the N² records are inherent to full-membership SWIM)'
  }
  return undefined
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1)
}

const usage = `usage: node dist/tools/simulate.js [--nodes 10,100,1000] [--loss PERCENT] [--latency MIN-MAX]
  [--seed 1] [--quiet-seconds 60] [--profile lan|local|wan] [--gossip-nodes K]
  [--gossip-interval MS] [--retransmit-mult M] [--no-membership-events] [--json]
Bytes per member record need --expose-gc; 10,000 nodes a larger heap:
  node --expose-gc --max-old-space-size=6626 dist/tools/simulate.js --nodes 10000
(bcache-bench --simulate adds both flags itself)`

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined
  const x = Number(v)
  if (!Number.isFinite(x)) throw new TypeError(`--${name} must be a number, got ${v}`)
  return x
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: 'string', default: '10,100,1000' },
      loss: { type: 'string', default: '0' },
      latency: { type: 'string', default: '1-5' },
      seed: { type: 'string', default: '1' },
      'quiet-seconds': { type: 'string', default: '60' },
      profile: { type: 'string', default: 'lan' },
      'gossip-nodes': { type: 'string' },
      'gossip-interval': { type: 'string' },
      'retransmit-mult': { type: 'string' },
      'no-membership-events': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false }
    }
  })
  if (values.help) {
    console.log(usage)
    return
  }
  const sizes = values.nodes.split(',').map((s) => num('nodes', s.trim())!)
  const lat = /^(\d+(?:\.\d+)?)(?:-(\d+(?:\.\d+)?))?$/.exec(values.latency)
  if (lat === null) throw new TypeError(`--latency must be MIN-MAX in ms, got ${values.latency}`)
  const latencyMs: [number, number] = [Number(lat[1]), Number(lat[2] ?? lat[1])]
  const reports: SimulationReport[] = []
  for (const nodes of sizes) {
    const r = await runSimulation({
      nodes,
      lossPercent: num('loss', values.loss)!,
      latencyMs,
      seed: num('seed', values.seed)!,
      quietSeconds: num('quiet-seconds', values['quiet-seconds'])!,
      profile: values.profile as ProfileName,
      gossipNodes: num('gossip-nodes', values['gossip-nodes']),
      gossipIntervalMs: num('gossip-interval', values['gossip-interval']),
      retransmitMult: num('retransmit-mult', values['retransmit-mult']),
      membershipEvents: !values['no-membership-events'],
      progress: (line) => console.error(`[simulate ${((performance.now()) / 1000).toFixed(1)}s] ${line}`)
    })
    if (r.skipped !== undefined) console.error(`[simulate] N=${nodes} skipped: ${r.skipped}`)
    reports.push(r)
  }
  if (values.json) console.log(JSON.stringify({ reports }, null, 2))
  else {
    const t = reports[0]?.tuning
    if (t !== undefined) {
      console.log(`profile ${t.profile}: gossip ${t.gossipNodes} nodes every ${t.gossipIntervalMs} ms, retransmitMult ${t.retransmitMult}, ` +
        `probe every ${t.probeIntervalMs} ms; loss ${values.loss} %, latency ${latencyMs[0]}-${latencyMs[1]} ms, seed ${values.seed}, quiet ${values['quiet-seconds']} s (virtual)`)
    }
    console.log(formatTable(reports))
    console.log(`\n${formatScaleTable(reports)}`)
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`simulate: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
