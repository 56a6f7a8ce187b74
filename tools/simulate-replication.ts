/**
 * `bcache-bench --simulate-replication`: what one write costs at scale. N
 * real `Bcache` nodes (their whole replication: eager push, deltas
 * piggybacked on gossip, push streams, anti-entropy) run in one process on
 * the in-memory network with a manual clock and seeded randomness
 * (replication-cluster.ts builds it), so every figure is in virtual time and
 * a seed replays the run exactly.
 *
 * How a run goes, for one cluster size N:
 * 1. Bootstrap until membership is complete and quiet (replication-cluster.ts).
 * 2. Idle before: `idleSeconds` with no writes; each node's datagrams and
 *    bytes per second are the steady cost of an empty cache.
 * 3. Writes: `rate` writes per second (whole cluster) for `seconds`, each
 *    of a new key with a `valueBytes`-character value, at evenly spaced
 *    virtual times; `uniform`: write i by node i mod N, `hot`: all by node 0.
 *    Every node's `set` event (local or remote) counts the key's holders;
 *    when all N hold it, the virtual time since its `set` is its
 *    "visible on every node" time. Then time runs until every write is
 *    everywhere (the drain), and on until every node's datagram bytes per
 *    second are back near its idle rate (the tail: a hot writer's gossip
 *    feed holds up to `maxQueuedDeltas` deltas, each piggybacked
 *    `deltaRetransmitMult·ceil(log10(N+1))` times, and drains at the rate
 *    gossip packets leave), so retransmissions are inside the window.
 * 4. Per write: each node's traffic over that window minus its own idle
 *    rate times the window, divided by the writes.
 * 5. Idle after: `idleSeconds` more, now with the data (and its write
 *    origins in every digest): the steady cost of a cache that holds data.
 *
 * Memory bounds N: every node holds every member and (here) every key.
 */
import { pathToFileURL } from 'node:url'
import type { ProfileName } from '../lib/index.js'
import { countsOf, startCluster, stopCluster, type ReplicationCluster } from './replication-cluster.js'
import { divided, minusScaled, rounded, spreadOf, trafficBetween, type ReplicationReport, type TrafficFigures } from './replication-report.js'
import { runFor, runUntil } from './wait.js'

export type { ReplicationReport } from './replication-report.js'

/** Settings of one run. */
export interface ReplicationSimulationOptions {
  /** Cluster size, at least 2. */
  nodes: number
  /** `uniform`: every node writes at the same rate; `hot`: node 0 writes everything. @default 'uniform' */
  writers?: 'uniform' | 'hot'
  /** Writes per second, whole cluster. @default 1000 */
  rate?: number
  /** Length of the write phase, virtual seconds. @default 5 */
  seconds?: number
  /** Characters per value. @default 100 */
  valueBytes?: number
  /**
   * Each idle phase, virtual seconds. Shorter than `pushPullIntervalMs`
   * (30 s on lan), a window may hold every node's membership push-pull or
   * none of them (they start in step after the bootstrap). @default 30
   */
  idleSeconds?: number
  /** @default 1 */
  seed?: number
  /** @default 'lan' */
  profile?: ProfileName
  /** One-way delay, uniform in [min, max] ms. @default [1, 5] */
  latencyMs?: [number, number]
  /** Progress lines. @default none */
  progress?: (line: string) => void
}

const STEP_MS = 1
/** Shortest tail after the drain (an anti-entropy round or two, the first gossip retransmissions). */
const MIN_TAIL_MS = 5_000
/** Longest tail. */
const MAX_TAIL_MS = 300_000
/** Most virtual time the drain may take. */
const DRAIN_CAP_MS = 120_000

/** Runs one simulated cluster and reports what a write cost. */
export async function runReplicationSimulation(opts: ReplicationSimulationOptions): Promise<ReplicationReport> {
  const wallStart = performance.now()
  const n = opts.nodes
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`nodes must be an integer >= 2, got ${n}`)
  const rate = opts.rate ?? 1000
  const seconds = opts.seconds ?? 5
  if (!(rate > 0) || !(seconds > 0)) throw new RangeError(`rate and seconds must be > 0, got ${rate} and ${seconds}`)
  const writes = Math.max(1, Math.round(rate * seconds))
  const idleSeconds = opts.idleSeconds ?? 30
  const latencyMs = opts.latencyMs ?? [1, 5]
  const profile = opts.profile ?? 'lan'
  const seed = opts.seed ?? 1
  const log = opts.progress ?? ((): void => {})
  const c = await startCluster({ nodes: n, seed, profile, latencyMs, maxKeys: writes + 1000, log })
  const bootstrapSeconds = (c.clock.now() - 1_700_000_000_000) / 1000
  // with node --expose-gc, garbage of earlier runs in this process is not counted
  ;(globalThis as { gc?: () => void }).gc?.()
  const heapMiB = Math.round(process.memoryUsage().heapUsed / 2 ** 20)
  const before = await idlePhase(c, idleSeconds)
  log(`N=${n}: idle ${idleSeconds} s measured; writing ${writes} keys`)
  const w = await writePhase(c, { writers: opts.writers ?? 'uniform', rate, writes, valueBytes: opts.valueBytes ?? 100 }, before, log)
  const after = await idlePhase(c, idleSeconds)
  await stopCluster(c)
  return {
    nodes: n, writers: opts.writers ?? 'uniform', rate, seconds, valueBytes: opts.valueBytes ?? 100, seed, profile, latencyMs,
    bootstrapSeconds, idle: { seconds: idleSeconds, perSecond: roundedSpread(before), perSecondWithData: roundedSpread(after) },
    writes: w.writes, perWrite: w.perWrite, replication: w.replication, heapMiB, wallSeconds: Math.round((performance.now() - wallStart) / 100) / 10
  }
}

/** Per node and per virtual second, over `idleSeconds` without writes. */
async function idlePhase(c: ReplicationCluster, idleSeconds: number): Promise<TrafficFigures[]> {
  const a = c.nodes.map(countsOf)
  await runFor(c.clock, idleSeconds * 1000, STEP_MS)
  return c.nodes.map((node, i) => divided(trafficBetween(a[i]!, countsOf(node)), idleSeconds))
}

interface Workload { writers: 'uniform' | 'hot'; rate: number; writes: number; valueBytes: number }

async function writePhase(c: ReplicationCluster, wl: Workload, idle: readonly TrafficFigures[], log: (line: string) => void): Promise<Pick<ReplicationReport, 'writes' | 'perWrite' | 'replication'>> {
  const { clock, nodes } = c
  const n = nodes.length
  const holders = new Map<string, { t0: number; count: number }>()
  const visible: number[] = []
  for (const { cache } of nodes) {
    cache.on('set', ({ key }) => {
      const h = holders.get(key)
      if (h !== undefined && ++h.count === n) visible.push(clock.now() - h.t0)
    })
  }
  const counts0 = nodes.map(countsOf)
  const repl0 = replicationTotals(c)
  const t0 = clock.now()
  for (let i = 0; i < wl.writes; i++) {
    const writer = nodes[wl.writers === 'hot' ? 0 : i % n]!.cache
    const key = `k${i}`
    const value = String(i).padEnd(wl.valueBytes, 'x')
    clock.setTimeout(() => {
      holders.set(key, { t0: clock.now(), count: 0 })
      writer.set(key, value)
    }, 1 + Math.floor((i * 1000) / wl.rate))
  }
  const writeMs = 1 + Math.floor(((wl.writes - 1) * 1000) / wl.rate) + 1
  await runFor(clock, writeMs, STEP_MS)
  const drainMs = await runUntil(clock, () => visible.length === wl.writes, DRAIN_CAP_MS, STEP_MS, 10)
  log(`N=${n}: ${visible.length}/${wl.writes} writes on every node; drain ${drainMs} ms`)
  const tailMs = await quietTail(c, idle)
  const windowMs = clock.now() - t0
  const perNode = nodes.map((node, i) =>
    divided(minusScaled(trafficBetween(counts0[i]!, countsOf(node)), idle[i]!, windowMs / 1000), wl.writes))
  const repl1 = replicationTotals(c)
  visible.sort((a, b) => a - b)
  const q = (p: number): number => visible.length === 0 ? -1 : visible[Math.min(visible.length - 1, Math.ceil(p * visible.length) - 1)]!
  return {
    writes: { issued: wl.writes, reachedAll: visible.length, visibleMs: { p50: ms(q(0.5)), p99: ms(q(0.99)), max: ms(q(1)) }, drainMs, tailMs, windowMs },
    perWrite: roundedSpread(perNode),
    replication: {
      pushDatagrams: repl1.pushDatagrams - repl0.pushDatagrams, pushBatches: repl1.pushBatches - repl0.pushBatches,
      pushStreams: repl1.pushStreams - repl0.pushStreams, antiEntropyRounds: repl1.antiEntropyRounds - repl0.antiEntropyRounds,
      antiEntropyBytesOut: repl1.antiEntropyBytesOut - repl0.antiEntropyBytesOut
    }
  }
}

/**
 * Runs {@link MIN_TAIL_MS}, then one virtual second at a time until, in the
 * last second, no node sent more datagram bytes than twice its idle rate
 * plus 200 (stream bytes are left out: digests stay larger once the data
 * and its origins are there). Returns the tail's length, or -1 at the cap.
 */
async function quietTail(c: ReplicationCluster, idle: readonly TrafficFigures[]): Promise<number> {
  const start = c.clock.now()
  await runFor(c.clock, MIN_TAIL_MS - 1000, STEP_MS)
  for (;;) {
    const a = c.nodes.map(countsOf)
    await runFor(c.clock, 1000, STEP_MS)
    const quiet = c.nodes.every((node, i) => countsOf(node).udpBytesOut - a[i]!.udpBytesOut <= 2 * idle[i]!.udpBytesOut + 200)
    if (quiet) return c.clock.now() - start
    if (c.clock.now() - start >= MAX_TAIL_MS) return -1
  }
}

/** Virtual ms to 0.1 ms (delays are drawn as fractions). */
function ms(x: number): number {
  return Math.round(x * 10) / 10
}

function roundedSpread(perNode: readonly TrafficFigures[]): ReplicationReport['perWrite'] {
  const s = spreadOf(perNode)
  return { writer: rounded(s.writer), othersMean: rounded(s.othersMean), max: rounded(s.max) }
}

function replicationTotals(c: ReplicationCluster): ReplicationReport['replication'] {
  const t = { pushDatagrams: 0, pushBatches: 0, pushStreams: 0, antiEntropyRounds: 0, antiEntropyBytesOut: 0 }
  for (const { cache } of c.nodes) {
    const r = cache.stats().replication
    t.pushDatagrams += r.pushDatagrams
    t.pushBatches += r.pushBatches
    t.pushStreams += r.pushStreams
    t.antiEntropyRounds += r.antiEntropy.rounds
    t.antiEntropyBytesOut += r.antiEntropy.bytesOut
  }
  return t
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const nodes = Number(process.argv[2] ?? 10)
  runReplicationSimulation({ nodes, writers: process.argv[3] === 'hot' ? 'hot' : 'uniform', seconds: Number(process.argv[4] ?? 1), progress: (l) => console.error(l) })
    .then((r) => console.log(JSON.stringify(r, null, 2)))
    .catch((err: unknown) => {
      console.error(err)
      process.exit(1)
    })
}
