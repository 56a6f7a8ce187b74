/**
 * `bcache-bench --simulate`: runs the real membership engine (SWIM +
 * Lifeguard) for many nodes in one process, on the in-memory network with a
 * manual clock and seeded randomness, so a run is repeatable and virtual
 * time costs only CPU.
 *
 * How a run goes, for one cluster size N:
 * 1. Bootstrap. Joining N nodes through one seed is O(N²) state transfer
 *    through that seed, so instead every node's member table is pre-seeded
 *    through the public `membership.receive(alive)` with an alive
 *    message for every other node (their real incarnations and addresses).
 *    The table re-broadcasts each of those, as it would after a real join, so
 *    the nodes then run until every membership broadcast queue has drained;
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
 * (about 450–600 bytes per record while the bootstrap broadcasts are queued). A size
 * whose estimate does not fit the V8 heap is reported as skipped, not run.
 */
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { getHeapStatistics } from 'node:v8'
import {
  ManualClock, Membership, MemoryNetwork, TransmitQueue, resolveTuning, seededRandom, silentLogger,
  type Clock, type MembershipDelegate, type ProfileName
} from '../lib/index.js'
import { formatTable, type SimulationReport } from './simulate-report.js'

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
 * Estimated heap per member record (one node's view of one member) while the
 * bootstrap broadcasts are queued: the record, two map entries, the id slot,
 * the queued encoded alive message and its queue node. Measured ~450 bytes at
 * N = 1000 (428 MiB heap); rounded up for the peak while they drain.
 */
const BYTES_PER_RECORD = 600
const STEP_MS = 10
const RUMOR = Buffer.from('bcache-simulated-rumor')
const EMPTY = new Uint8Array(0)

type AliveMsg = Parameters<Membership['table']['handleAlive']>[0]
// MsgType.Alive (5); the wire enum is not part of the public entry.
const ALIVE = 5 as AliveMsg['type']

/** A delegate carrying one rumor: infection style, retransmit-limited. */
class RumorDelegate implements MembershipDelegate {
  /** Virtual time of first receipt (or injection); -1 until then. */
  receivedAtMs = -1
  private readonly queue: TransmitQueue

  constructor(
    private readonly clock: Clock,
    retransmitMult: number,
    numNodes: () => number,
    private readonly onFirst: () => void
  ) {
    this.queue = new TransmitQueue({ retransmitMult, numNodes })
  }

  queued(): number {
    return this.queue.size()
  }

  inject(payload: Uint8Array): void {
    this.first(payload)
  }

  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[] {
    return this.queue.take(overheadBytes, limitBytes)
  }

  notifyMsg(payload: Buffer): void {
    if (this.receivedAtMs < 0) this.first(Buffer.from(payload))
  }

  localState(): Uint8Array {
    return EMPTY
  }

  mergeRemoteState(): void {}

  private first(payload: Uint8Array): void {
    this.receivedAtMs = this.clock.now()
    this.queue.enqueue({ subject: 'rumor', bytes: payload })
    this.onFirst()
  }
}

interface SimNode {
  m: Membership
  d: RumorDelegate
}

type Phase = 'setup' | 'dissemination' | 'quiet' | 'detect' | 'join'

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
  const quietSeconds = opts.quietSeconds ?? 60
  const log = opts.progress ?? ((): void => {})
  const tuning = resolveTuning(profile, {
    ...(opts.gossipNodes !== undefined ? { gossipNodes: opts.gossipNodes } : {}),
    ...(opts.gossipIntervalMs !== undefined ? { gossipIntervalMs: opts.gossipIntervalMs } : {}),
    ...(opts.retransmitMult !== undefined ? { retransmitMult: opts.retransmitMult } : {})
  })
  const boundRounds = Math.ceil(Math.log2(n)) + 3
  const report: SimulationReport = {
    nodes: n, lossPercent, latencyMs, seed,
    tuning: { profile, gossipIntervalMs: tuning.gossipIntervalMs, gossipNodes: tuning.gossipNodes, retransmitMult: tuning.retransmitMult, probeIntervalMs: tuning.probeIntervalMs },
    bootstrap: { method: 'pre-seeded', drainMs: -1, drained: false },
    dissemination: { reached: 0, reachedAll: false, timeToAllMs: -1, rounds: -1, boundRounds, withinBound: false, timeToHalfMs: -1, timeTo99Ms: -1 },
    load: { quiet: { avg: 0, max: 0 }, dissemination: { avg: 0, max: 0, windowMs: 0 } },
    quiet: { seconds: quietSeconds, falseDeaths: 0, falselyDeadNodes: 0, suspicions: 0 },
    heapMiB: 0,
    wallSeconds: 0
  }
  const needBytes = n * n * BYTES_PER_RECORD
  const heapLimit = getHeapStatistics().heap_size_limit
  if (needBytes > 0.85 * heapLimit) {
    report.skipped = `needs ~${gib(needBytes)} GiB of heap for ${n}×${n} member records; limit is ${gib(heapLimit)} GiB ` +
      `(raise with node --max-old-space-size=MiB; the N² records are inherent to full-membership SWIM)`
    return report
  }

  const clock = new ManualClock()
  const rootRandom = seededRandom(seed)
  const net = new MemoryNetwork({ clock, random: seededRandom(seed * 7919 + 1) },
    { lossRate: lossPercent / 100, minDelayMs: latencyMs[0], maxDelayMs: latencyMs[1] })
  let phase: Phase = 'setup'
  let reached = 0
  const nodes: SimNode[] = []
  const makeNode = (id: string): SimNode => {
    const transport = net.bind()
    const m = new Membership(
      { transport, clock, random: seededRandom(Math.floor(rootRandom() * 2 ** 31)), logger: silentLogger },
      { ...tuning, nodeId: id, advertiseAddr: transport.address }
    )
    const d = new RumorDelegate(clock, tuning.retransmitMult, () => m.numLive(), () => { reached++ })
    m.setDelegate(d)
    return { m, d }
  }
  for (let i = 0; i < n; i++) nodes.push(makeNode(`node-${i}`))

  // 1. Bootstrap: pre-seed every table, start, let the alive broadcasts drain.
  log(`N=${n}: pre-seeding ${n}×${n - 1} member records`)
  const alive: AliveMsg[] = nodes.map(({ m }) => ({ type: ALIVE, incarnation: m.incarnation, nodeId: m.nodeId, addr: m.address }))
  for (let i = 0; i < n; i++) {
    const m = nodes[i]!.m
    for (let j = 0; j < n; j++) if (j !== i) m.receive(alive[j]!, alive[j]!.addr)
    if (n >= 1000 && (i + 1) % Math.floor(n / 10) === 0) log(`N=${n}:   ${i + 1}/${n} tables`)
  }
  report.heapMiB = process.memoryUsage().heapUsed / 2 ** 20
  for (const { m } of nodes) m.start()
  const drainStart = clock.now()
  let nextLogMs = drainStart + 10_000
  const allDrained = (): boolean => {
    if (clock.now() >= nextLogMs) {
      nextLogMs += 10_000
      const queued = nodes.reduce((sum, { m }) => sum + m.stats().queuedBroadcasts, 0)
      log(`N=${n}:   draining: ${(clock.now() - drainStart) / 1000} s virtual, ${queued} broadcasts queued`)
    }
    return nodes.every(({ m }) => m.stats().queuedBroadcasts === 0)
  }
  report.bootstrap.drainMs = await runUntil(clock, allDrained, 600_000, 200)
  report.bootstrap.drained = report.bootstrap.drainMs >= 0
  log(`N=${n}: bootstrap broadcasts ${report.bootstrap.drained ? `drained after ${report.bootstrap.drainMs} ms` : 'did NOT drain in 600 s'} (heap ${report.heapMiB.toFixed(0)} MiB)`)

  // Event accounting for the later phases (listeners added after the N² joins of pre-seeding).
  const falselyDead = new Set<string>()
  const suspected = new Set<string>()
  const victimId = `node-${n - 1}`
  const joinerId = `node-${n}`
  const detectedAt: number[] = []
  let joinKnown = 0
  let joinLastMs = -1
  for (const { m } of nodes) {
    m.on('fail', (x) => {
      if (phase === 'quiet') {
        report.quiet.falseDeaths++
        falselyDead.add(x.nodeId)
      } else if (phase === 'detect' && x.nodeId === victimId) detectedAt.push(clock.now())
    })
    m.on('update', (x) => {
      if (phase === 'quiet' && x.state === 'suspect') suspected.add(`${x.nodeId}@${x.incarnation}`)
    })
    m.on('join', (x) => {
      if (phase === 'join' && x.nodeId === joinerId) {
        joinKnown++
        joinLastMs = clock.now()
      }
    })
  }

  // 2. Dissemination of one injected payload.
  phase = 'dissemination'
  const t0 = clock.now()
  let sent = packetsOut(nodes)
  nodes[0]!.d.inject(RUMOR)
  const cap = Math.max(60_000, 100 * tuning.gossipIntervalMs)
  await runUntil(clock, () => reached === n, cap)
  await runUntil(clock, () => nodes.every(({ d }) => d.queued() === 0), cap, 100)
  report.load.dissemination = { ...rates(sent, packetsOut(nodes), clock.now() - t0), windowMs: clock.now() - t0 }
  const times = nodes.map(({ d }) => d.receivedAtMs).filter((t) => t >= 0).map((t) => t - t0).sort((a, b) => a - b)
  const dis = report.dissemination
  dis.reached = times.length
  dis.reachedAll = times.length === n
  dis.timeToHalfMs = times[Math.ceil(n / 2) - 1] ?? -1
  dis.timeTo99Ms = times[Math.ceil(0.99 * n) - 1] ?? -1
  if (dis.reachedAll) {
    dis.timeToAllMs = times[n - 1]!
    dis.rounds = Math.ceil(dis.timeToAllMs / tuning.gossipIntervalMs)
    dis.withinBound = dis.rounds <= boundRounds
  }
  log(`N=${n}: rumor reached ${dis.reached}/${n}${dis.reachedAll ? ` in ${dis.timeToAllMs.toFixed(0)} ms (${dis.rounds} rounds, bound ${boundRounds})` : ''}`)

  // 3. Quiet period.
  phase = 'quiet'
  sent = packetsOut(nodes)
  await runFor(clock, quietSeconds * 1000)
  report.load.quiet = rates(sent, packetsOut(nodes), quietSeconds * 1000)
  report.quiet.falselyDeadNodes = falselyDead.size
  report.quiet.suspicions = suspected.size
  log(`N=${n}: quiet ${quietSeconds} s: ${report.quiet.falseDeaths} false deaths, ${suspected.size} suspicions, ${report.load.quiet.avg.toFixed(2)} msg/s/node`)

  // 4. Failure detection, then a join.
  if (opts.membershipEvents !== false && n >= 3) {
    phase = 'detect'
    const victim = nodes.pop()!
    const killedAt = clock.now()
    await settle(clock, victim.m.shutdown())
    const survivors = nodes.length
    await runUntil(clock, () => detectedAt.length >= survivors, 120_000)
    const delays = detectedAt.map((t) => t - killedAt).sort((a, b) => a - b)
    report.failureDetection = {
      detectedBy: delays.length,
      survivors,
      allDetectedMs: delays.length === survivors ? delays[survivors - 1]! : -1,
      medianMs: delays[Math.floor(delays.length / 2)] ?? -1
    }
    log(`N=${n}: failure detected by ${delays.length}/${survivors}, all after ${report.failureDetection.allDetectedMs.toFixed(0)} ms`)

    phase = 'join'
    const joiner = makeNode(joinerId)
    joiner.m.start()
    const joinedAt = clock.now()
    const joining = joiner.m.join([nodes[0]!.m.address])
    joining.catch(() => {})
    await runUntil(clock, () => joinKnown >= survivors, 60_000)
    report.joinSpread = { knownBy: joinKnown, of: survivors, allKnowMs: joinKnown >= survivors ? joinLastMs - joinedAt : -1 }
    log(`N=${n}: join known by ${joinKnown}/${survivors}${joinKnown >= survivors ? ` after ${(joinLastMs - joinedAt).toFixed(0)} ms` : ''}`)
    nodes.push(joiner)
  }

  await settle(clock, Promise.all(nodes.map(({ m }) => m.shutdown())))
  report.wallSeconds = (performance.now() - wallStart) / 1000
  return report
}

function packetsOut(nodes: readonly SimNode[]): number[] {
  return nodes.map(({ m }) => m.stats().packetsOut)
}

/** Datagrams per node per virtual second between two snapshots of the same nodes. */
function rates(before: readonly number[], after: readonly number[], ms: number): { avg: number; max: number } {
  if (ms <= 0) return { avg: 0, max: 0 }
  let sum = 0
  let max = 0
  for (let i = 0; i < before.length; i++) {
    const d = after[i]! - before[i]!
    sum += d
    if (d > max) max = d
  }
  return { avg: (sum / before.length) * 1000 / ms, max: max * 1000 / ms }
}

function gib(bytes: number): string {
  return (bytes / 2 ** 30).toFixed(1)
}

/** Lets promise continuations (push-pull, TCP ping) run between clock steps. */
function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

async function runFor(clock: ManualClock, ms: number): Promise<void> {
  const end = clock.now() + ms
  while (clock.now() < end) {
    clock.advance(Math.min(STEP_MS, end - clock.now()))
    await flush()
  }
}

/**
 * Steps the clock until `predicate()` holds (checked every `checkEveryMs`)
 * or `maxMs` passed. Returns the virtual ms it took, or -1.
 */
async function runUntil(clock: ManualClock, predicate: () => boolean, maxMs: number, checkEveryMs = STEP_MS): Promise<number> {
  const start = clock.now()
  let sinceCheck = 0
  for (;;) {
    if (sinceCheck >= checkEveryMs || sinceCheck === 0) {
      if (predicate()) return clock.now() - start
      sinceCheck = 0
    }
    if (clock.now() - start >= maxMs) return -1
    clock.advance(STEP_MS)
    sinceCheck += STEP_MS
    await flush()
  }
}

async function settle<T>(clock: ManualClock, p: Promise<T>, maxMs = 60_000): Promise<T> {
  let done = false
  const watched = p.finally(() => { done = true })
  watched.catch(() => {})
  await flush()
  await runUntil(clock, () => done, maxMs)
  return watched
}

const usage = `usage: node dist/tools/simulate.js [--nodes 10,100,1000] [--loss PERCENT] [--latency MIN-MAX]
  [--seed 1] [--quiet-seconds 60] [--profile lan|local|wan] [--gossip-nodes K]
  [--gossip-interval MS] [--retransmit-mult M] [--no-membership-events] [--json]
Large N needs a larger heap: node --max-old-space-size=16384 dist/tools/simulate.js --nodes 3000`

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
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(`simulate: ${err instanceof Error ? err.message : String(err)}`)
    process.exit(1)
  })
}
