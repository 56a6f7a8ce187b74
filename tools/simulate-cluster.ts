/**
 * The simulated cluster behind `tools/simulate.ts` and the phases of one run
 * (the file comment there says what each measures): a {@link Sim} holds the
 * clock, the in-memory network, the nodes and the report being filled; each
 * phase is one function that advances virtual time and writes its part.
 */
import { Membership, TransmitQueue, silentLogger, suspicionTimeoutBounds, type Clock, type MembershipDelegate, type MembershipTuning } from '../lib/membership-entry.js'
import { epidemicRounds } from './epidemic-model.js'
import { ManualClock, MemoryNetwork, seededRandom } from '../lib/testing.js'
import type { SimulationReport } from './simulate-report.js'
import { counters, memoryAfterGc, packetsOut, rates, trafficRates } from './simulate-measures.js'
import { runFor, runUntil, settle } from './wait.js'

const STEP_MS = 10
const RUMOR = Buffer.from('bcache-simulated-rumor')
const EMPTY = new Uint8Array(0)

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

/** One simulated cluster and the report it fills. */
export interface Sim {
  readonly n: number
  readonly clock: ManualClock
  readonly tuning: MembershipTuning
  readonly report: SimulationReport
  readonly log: (line: string) => void
  readonly nodes: SimNode[]
  /** Which phase the event listeners count for. */
  phase: Phase
  /** Nodes the rumor reached. */
  reached: number
  /** A new node on the network (not started). */
  makeNode(id: string): SimNode
}

/** What the event listeners record during the quiet, detect and join phases. */
interface Events {
  falselyDead: Set<string>
  suspected: Set<string>
  victimId: string
  joinerId: string
  detectedAt: number[]
  joinKnown: number
  joinLastMs: number
}

/** The network and `n` nodes `node-0..n-1` (not started). */
export function createSim(n: number, seed: number, net: { lossRate: number; minDelayMs: number; maxDelayMs: number },
  tuning: MembershipTuning, report: SimulationReport, log: (line: string) => void): Sim {
  const clock = new ManualClock()
  const rootRandom = seededRandom(seed)
  const network = new MemoryNetwork({ clock, random: seededRandom(seed * 7919 + 1) }, net)
  const sim: Sim = {
    n, clock, tuning, report, log, nodes: [], phase: 'setup', reached: 0,
    makeNode(id) {
      const transport = network.bind()
      const m = new Membership(
        { transport, clock, random: seededRandom(Math.floor(rootRandom() * 2 ** 31)), logger: silentLogger },
        // maxMembers: room for every node, the joiner and the dead victim (the default is 10,000).
        { ...tuning, nodeId: id, advertiseAddr: transport.address, maxMembers: Math.max(10_000, n + 16) }
      )
      const d = new RumorDelegate(clock, tuning.retransmitMult, () => m.numLive(), () => { sim.reached++ })
      m.setDelegate(d)
      return { m, d }
    }
  }
  for (let i = 0; i < n; i++) sim.nodes.push(sim.makeNode(`node-${i}`))
  return sim
}

/** Pre-seeds every node's table with every other node (bootstrap-only entry point: nothing queued, no events). */
export function preseed(sim: Sim): void {
  const { n, nodes, log } = sim
  log(`N=${n}: pre-seeding ${n}×${n - 1} member records`)
  const members = nodes.map(({ m }) => ({ nodeId: m.nodeId, addr: m.address, incarnation: m.incarnation }))
  for (let i = 0; i < n; i++) {
    nodes[i]!.m.preseedForBootstrap(members)
    if (n >= 1000 && (i + 1) % Math.floor(n / 10) === 0) log(`N=${n}:   ${i + 1}/${n} tables`)
  }
}

/** 1. Bootstrap: pre-seed every table, start, let the start-up self-announcements drain. */
export async function bootstrap(sim: Sim): Promise<void> {
  const { n, nodes, clock, report, log } = sim
  const before = await memoryAfterGc()
  preseed(sim)
  const after = await memoryAfterGc()
  if (before !== undefined && after !== undefined) {
    const m = report.memory
    m.bytesPerRecord = (after.heapUsed + after.external - before.heapUsed - before.external) / (n * (n - 1))
    m.heapMiB = after.heapUsed / 2 ** 20
    m.externalMiB = after.external / 2 ** 20
    m.rssMiB = after.rss / 2 ** 20
    log(`N=${n}: member records ${m.bytesPerRecord.toFixed(1)} B each (heap ${m.heapMiB.toFixed(0)} MiB, typed arrays/external ${m.externalMiB.toFixed(0)} MiB, RSS ${m.rssMiB.toFixed(0)} MiB)`)
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
  report.bootstrap.drainMs = await runUntil(clock, allDrained, 600_000, STEP_MS, 200)
  report.bootstrap.drained = report.bootstrap.drainMs >= 0
  log(`N=${n}: bootstrap broadcasts ${report.bootstrap.drained ? `drained after ${report.bootstrap.drainMs} ms` : 'did NOT drain in 600 s'} (heap ${report.heapMiB.toFixed(0)} MiB)`)
}

/** Event accounting for the later phases (listeners added after the N² joins of pre-seeding). */
function watchEvents(sim: Sim): Events {
  const { n, clock, report } = sim
  const ev: Events = {
    falselyDead: new Set(), suspected: new Set(), victimId: `node-${n - 1}`, joinerId: `node-${n}`,
    detectedAt: [], joinKnown: 0, joinLastMs: -1
  }
  for (const { m } of sim.nodes) {
    m.on('fail', (x) => {
      if (sim.phase === 'quiet') {
        report.quiet.falseDeaths++
        ev.falselyDead.add(x.nodeId)
      } else if (sim.phase === 'detect' && x.nodeId === ev.victimId) ev.detectedAt.push(clock.now())
    })
    m.on('update', (x) => {
      if (sim.phase === 'quiet' && x.state === 'suspect') ev.suspected.add(`${x.nodeId}@${x.incarnation}`)
    })
    m.on('join', (x) => {
      if (sim.phase === 'join' && x.nodeId === ev.joinerId) {
        ev.joinKnown++
        ev.joinLastMs = clock.now()
      }
    })
  }
  return ev
}

/** 2. Dissemination of one payload injected at node 0. */
async function disseminate(sim: Sim): Promise<void> {
  const { n, nodes, clock, tuning, report, log } = sim
  sim.phase = 'dissemination'
  const t0 = clock.now()
  const sent = packetsOut(nodes)
  nodes[0]!.d.inject(RUMOR)
  const cap = Math.max(60_000, 100 * tuning.gossipIntervalMs)
  await runUntil(clock, () => sim.reached === n, cap, STEP_MS)
  await runUntil(clock, () => nodes.every(({ d }) => d.queued() === 0), cap, STEP_MS, 100)
  report.load.dissemination = { ...rates(sent, packetsOut(nodes), clock.now() - t0), windowMs: clock.now() - t0 }
  const times = nodes.map(({ d }) => d.receivedAtMs).filter((t) => t >= 0).map((t) => t - t0).sort((a, b) => a - b)
  const dis = report.dissemination
  dis.reached = times.length
  dis.reachedAll = times.length === n
  dis.timeToHalfMs = times[Math.ceil(n / 2) - 1] ?? -1
  dis.timeTo99Ms = times[Math.ceil(0.99 * n) - 1] ?? -1
  dis.timeTo9999Ms = times[Math.ceil(0.9999 * n) - 1] ?? -1
  dis.rounds99 = dis.timeTo99Ms < 0 ? -1 : Math.ceil(dis.timeTo99Ms / tuning.gossipIntervalMs)
  dis.rounds9999 = dis.timeTo9999Ms < 0 ? -1 : Math.ceil(dis.timeTo9999Ms / tuning.gossipIntervalMs)
  const loss = report.lossPercent / 100
  const r99 = epidemicRounds(0.99, tuning.gossipNodes, n, loss)
  const r9999 = epidemicRounds(0.9999, tuning.gossipNodes, n, loss)
  dis.model = { rounds99: r99, rounds9999: r9999, ms99: r99 * tuning.gossipIntervalMs, ms9999: r9999 * tuning.gossipIntervalMs }
  if (dis.reachedAll) {
    dis.timeToAllMs = times[n - 1]!
    dis.rounds = Math.ceil(dis.timeToAllMs / tuning.gossipIntervalMs)
    dis.withinBound = dis.rounds <= dis.boundRounds
  }
  log(`N=${n}: rumor reached ${dis.reached}/${n}${dis.reachedAll ? ` in ${dis.timeToAllMs.toFixed(0)} ms (${dis.rounds} rounds, bound ${dis.boundRounds})` : ''}`)
}

/** 3. Quiet period: every `fail` is a false positive. */
async function quietPeriod(sim: Sim, ev: Events): Promise<void> {
  const { n, nodes, clock, report, log } = sim
  const quietSeconds = report.quiet.seconds
  sim.phase = 'quiet'
  const sent = packetsOut(nodes)
  const traffic = counters(nodes)
  for (let done = 0; done < quietSeconds; done += 10) {
    await runFor(clock, Math.min(10, quietSeconds - done) * 1000, STEP_MS)
    if (n >= 5000) log(`N=${n}:   quiet ${Math.min(quietSeconds, done + 10)}/${quietSeconds} s virtual`)
  }
  report.load.quiet = rates(sent, packetsOut(nodes), quietSeconds * 1000)
  report.load.quietTraffic = trafficRates(traffic, counters(nodes), quietSeconds * 1000)
  report.quiet.falselyDeadNodes = ev.falselyDead.size
  report.quiet.suspicions = ev.suspected.size
  log(`N=${n}: quiet ${quietSeconds} s: ${report.quiet.falseDeaths} false deaths, ${ev.suspected.size} suspicions, ${report.load.quiet.avg.toFixed(2)} msg/s/node`)
}

/** 4a. Failure detection: the last node is shut down (no leave). */
async function detectFailure(sim: Sim, ev: Events): Promise<void> {
  const { n, nodes, clock, report, log } = sim
  sim.phase = 'detect'
  const victim = nodes.pop()!
  const killedAt = clock.now()
  await settle(clock, victim.m.shutdown(), 60_000, STEP_MS)
  const survivors = nodes.length
  await runUntil(clock, () => ev.detectedAt.length >= survivors, 120_000, STEP_MS)
  const delays = ev.detectedAt.map((t) => t - killedAt).sort((a, b) => a - b)
  const bounds = suspicionTimeoutBounds(sim.tuning.suspicionMult, sim.tuning.suspicionMaxTimeoutMult, n, sim.tuning.probeIntervalMs)
  report.failureDetection = {
    detectedBy: delays.length,
    survivors,
    allDetectedMs: delays.length === survivors ? delays[survivors - 1]! : -1,
    medianMs: delays[Math.floor(delays.length / 2)] ?? -1,
    firstMs: delays[0] ?? -1,
    suspicionMinMs: bounds.minMs,
    suspicionMaxMs: bounds.maxMs
  }
  log(`N=${n}: failure detected by ${delays.length}/${survivors}, all after ${report.failureDetection.allDetectedMs.toFixed(0)} ms`)
}

/** 4b. A new node joins through node 0 (a real push-pull join). */
async function spreadJoin(sim: Sim, ev: Events): Promise<void> {
  const { n, nodes, clock, report, log } = sim
  const survivors = nodes.length
  sim.phase = 'join'
  const joiner = sim.makeNode(ev.joinerId)
  joiner.m.start()
  const joinedAt = clock.now()
  const joining = joiner.m.join([nodes[0]!.m.address])
  joining.catch(() => {})
  await runUntil(clock, () => ev.joinKnown >= survivors, 60_000, STEP_MS)
  report.joinSpread = { knownBy: ev.joinKnown, of: survivors, allKnowMs: ev.joinKnown >= survivors ? ev.joinLastMs - joinedAt : -1 }
  log(`N=${n}: join known by ${ev.joinKnown}/${survivors}${ev.joinKnown >= survivors ? ` after ${(ev.joinLastMs - joinedAt).toFixed(0)} ms` : ''}`)
  nodes.push(joiner)
}

/** Phases 2 to 4 (4 only with `membershipEvents` and at least 3 nodes), then shuts every node down. */
export async function measure(sim: Sim, membershipEvents: boolean): Promise<void> {
  const ev = watchEvents(sim)
  await disseminate(sim)
  await quietPeriod(sim, ev)
  if (membershipEvents && sim.n >= 3) {
    await detectFailure(sim, ev)
    await spreadJoin(sim, ev)
  }
  await settle(sim.clock, Promise.all(sim.nodes.map(({ m }) => m.shutdown())), 60_000, STEP_MS)
}
