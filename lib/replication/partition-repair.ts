/**
 * When partition mode's segment rounds run (the protocol is segment-sync.ts):
 *
 * - **Initial**: right after joining, before `create()` resolves, a round
 *   with every live peer over the segments both own: the joiner pulls what
 *   it now owns, and nothing else.
 * - **Rebalance**: when membership changes the table (a join, a leave, a
 *   failure), each node sends, `handOffDelayMs` later, the segments it owns
 *   to their new co-owners — only those: a segment whose owners did not
 *   change costs nothing. A member that joined gets them
 *   {@link JOINER_PUSH_DELAY_MS} later instead: it pulls them itself, and by
 *   then they compare equal. A
 *   node that no longer owns a segment it holds waits one delay more (the
 *   continuing owners go first), then hands it off like any entry it does
 *   not own (below).
 * - **Hand-off**: entries this node holds but does not own go to every
 *   owner of their key — segments it lost from its store, its own writes of
 *   such keys from its hand-off list (partition.ts) — and leave this node
 *   once every owner acknowledged its round. Runs every interval and after
 *   a rebalance.
 * - **Repair**: every `antiEntropyIntervalMs` (jittered ±50%), one round
 *   with one random peer over every segment both own, so a write whose
 *   push was lost reaches the owner that missed it; every round also
 *   carries the clears each side holds, so a clear lost in a partition
 *   reaches every node (also with no segment in common).
 *
 * At most `maxSyncs` rounds are served at once; one beyond is refused
 * (counted `segment-sync-busy`) and its initiator tries again later. So is
 * every round before this node is up (a joiner still pulling, which may
 * never finish its join) and once it is leaving: what a peer handed it then
 * could go down with it.
 */
import { Ticker, type Clock, type Timer } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import type { Cluster } from '../membership/cluster.js'
import type { Random } from '../random.js'
import type { Entry } from '../store/versioned-store.js'
import type { StreamConn } from '../transport/transport.js'
import { StreamTag } from '../wire/stream-tags.js'
import { SEGMENTS, segmentOf, type Ownership } from './ownership.js'
import { add, newOwnersPlan, planFor, type Plan } from './segment-plans.js'
import { initiateSegmentSync, respondSegmentSync, scanSegments, segmentEntries, type SegmentSyncResult, type SegmentRequest, type SegmentScan, type SegmentSyncContext } from './segment-sync.js'

export interface PartitionRepairComponents {
  cluster: Cluster
  clock: Clock
  random: Random
  logger: Logger
  drops: DropCounts
  ownership: Ownership
  round: SegmentSyncContext
  /** Entries handed off to every owner of their segment: this node lets them go. */
  onHandedOff: (entries: readonly Entry[]) => void
  /** This node's writes of keys it does not own, not yet acknowledged by every owner (partition.ts). */
  pending: () => Iterable<Entry>
  /** Pending writes every owner acknowledged. */
  onPendingDelivered: (entries: readonly Entry[]) => void
}

export interface PartitionRepairConfig {
  antiEntropyIntervalMs: number
  maxSyncs: number
  /** How long a node that lost a segment waits before handing it off. */
  handOffDelayMs: number
}

/** How long after a join its co-owners push it its segments (it pulls them itself first). */
export const JOINER_PUSH_DELAY_MS = 30_000

export class PartitionRepair {
  private ticker: Ticker | undefined
  private handOffTimer: Timer | undefined
  private rebalanceTimer: Timer | undefined
  /** Timers of the pushes to joiners (see {@link JOINER_PUSH_DELAY_MS}). */
  private readonly laterPushes = new Set<Timer>()
  /** Members that joined since the last rebalance. */
  private joined = new Set<string>()
  /** The ownership table before the first change not rebalanced yet. */
  private baseline: ReadonlyArray<readonly string[]> | undefined
  private served = 0
  private closed = false
  private leaving = false
  /** Rounds from peers are taken only once this node is up (`create()` resolved): one still joining may never be. */
  private started = false
  private readonly rounds = new Set<StreamConn>()

  constructor(private readonly c: PartitionRepairComponents, private readonly config: PartitionRepairConfig) {
    c.cluster.handleStreams(StreamTag.SegmentSync, (conn, payload) => this.serve(conn, payload))
  }

  start(): void {
    this.started = true
    const every = this.config.antiEntropyIntervalMs
    if (every <= 0 || this.closed) return
    this.ticker = new Ticker(this.c.clock, () => every * (0.5 + this.c.random()), () => { void this.periodic() }).start()
  }

  close(): void {
    this.closed = true
    this.ticker?.stop()
    if (this.handOffTimer !== undefined) this.c.clock.clearTimeout(this.handOffTimer)
    if (this.rebalanceTimer !== undefined) this.c.clock.clearTimeout(this.rebalanceTimer)
    for (const t of this.laterPushes) this.c.clock.clearTimeout(t)
    this.laterPushes.clear()
    for (const conn of this.rounds) conn.destroy()
    this.rounds.clear()
  }

  /**
   * A node about to close hands off its own writes, and the segments it owns
   * to the members that own them once it is gone, first. From here on it
   * takes no round from peers: what they would hand it now would leave with it.
   */
  async leave(): Promise<void> {
    this.leaving = true
    const { ownership } = this.c
    const after = ownership.tableWithout(ownership.selfId)
    const scan = this.scan()
    const { plan } = newOwnersPlan(scan, (s) => after[s]!, (s) => ownership.owners(s), () => true) // its owners once this node is gone
    await Promise.all([this.run(plan, scan), this.handOff()])
  }

  /** The joiner's pull (see the file comment); resolves whether every peer answered. */
  async initialSync(): Promise<boolean> {
    this.c.ownership.refresh()
    const plan: Plan = new Map()
    for (const p of this.c.cluster.livePeers()) {
      const segments = this.c.ownership.sharedWith(p.nodeId)
      if (segments.length > 0) plan.set(p.nodeId, { segments, wants: segments.map(() => 1), extra: [] })
    }
    const results = await this.run(plan, this.scan())
    return results.every((r) => r !== undefined)
  }

  /**
   * Membership changed: recompute the table, and if it moved, rebalance
   * after `handOffDelayMs` (see the file comment). Changes within the delay
   * are rebalanced together, against the table before the first of them.
   */
  membershipChanged(joined?: string): void {
    const before = this.c.ownership.table()
    if (joined !== undefined) this.joined.add(joined)
    if (this.closed || !this.c.ownership.refresh()) return
    this.baseline ??= before
    if (this.rebalanceTimer !== undefined) return
    this.rebalanceTimer = this.c.clock.setTimeout(() => {
      this.rebalanceTimer = undefined
      this.rebalance()
    }, this.config.handOffDelayMs)
  }

  /**
   * Sends the segments this node owns to their owners that are new since the
   * baseline, without asking for theirs: a joiner pulls for itself, so by
   * now the fingerprints usually match and nothing moves. Segments it lost
   * are handed off one delay later, once the continuing owners are done.
   */
  private rebalance(): void {
    const baseline = this.baseline
    const joined = this.joined
    this.baseline = undefined
    this.joined = new Set()
    if (this.closed || baseline === undefined) return
    const scan = this.scan()
    const { ownership } = this.c
    const { plan, skipped: lost } = newOwnersPlan(scan, (s) => ownership.owners(s), (s) => baseline[s] ?? [], (s) => ownership.ownsSegment(s), ownership.selfId)
    // A member that joined pulls what it owns itself (initialSync); pushed to at
    // once, a large state would cross twice. It gets its push later, when its
    // pull is long done and the fingerprints compare equal (a member back from
    // a partition, which pulls nothing, is served then too).
    const later: Plan = new Map([...plan].filter(([id]) => joined.has(id)))
    for (const id of later.keys()) plan.delete(id)
    void this.run(plan, scan)
    if (later.size > 0) {
      const timer = this.c.clock.setTimeout(() => {
        this.laterPushes.delete(timer)
        if (!this.closed) void this.run(later, this.scan())
      }, JOINER_PUSH_DELAY_MS)
      this.laterPushes.add(timer)
    }
    if (lost) this.scheduleHandOff(this.config.handOffDelayMs)
  }

  /** One repair round with a random co-owner, and the hand-off of what this node does not own. */
  private async periodic(): Promise<void> {
    if (this.closed) return
    this.c.ownership.refresh()
    const [peer] = this.c.cluster.sampleAlive(1)
    if (peer !== undefined) {
      // Even with no segment in common (replicas 1) the round runs: both sides send the clears they hold.
      const segments = this.c.ownership.sharedWith(peer.nodeId)
      const plan: Plan = new Map([[peer.nodeId, { segments, wants: segments.map(() => 1), extra: [] }]])
      await this.run(plan, this.scan())
    }
    await this.handOff()
  }

  private scheduleHandOff(ms: number): void {
    if (this.handOffTimer !== undefined || this.closed) return
    this.handOffTimer = this.c.clock.setTimeout(() => {
      this.handOffTimer = undefined
      void this.handOff()
    }, ms)
  }

  /**
   * Sends every segment held but not owned, and every write of this node
   * waiting for its owners ({@link PartitionRepairComponents.pending}), to
   * the owners; lets go of what they all acknowledged.
   */
  private async handOff(): Promise<void> {
    if (this.closed) return
    const scan = this.scan()
    const { ownership } = this.c
    const plan: Plan = new Map()
    const owed = new Map<number, number>() // segment → owners that must acknowledge
    for (let s = 0; s < SEGMENTS; s++) {
      if (scan.counts[s] === 0 || ownership.ownsSegment(s)) continue
      const owners = ownership.owners(s)
      owed.set(s, owners.length)
      for (const o of owners) add(plan, o, s, 0)
    }
    const pendingOwed = new Map<Entry, number>()
    for (const e of this.c.pending()) {
      const owners = ownership.ownersOfKey(e.key).filter((o) => o !== ownership.selfId)
      pendingOwed.set(e, owners.length)
      for (const o of owners) planFor(plan, o).extra.push(e)
    }
    if (owed.size === 0 && pendingOwed.size === 0) return
    // What this node holds now of those segments: once every owner of one
    // acknowledged its round, each either got these entries or held the same.
    const held = segmentEntries(this.c.round.store, new Set(owed.keys()), this.c.clock.now(), this.c.round.deletionDelayMs)
    await this.run(plan, scan, (segments, extra) => {
      for (const s of segments) owed.set(s, owed.get(s)! - 1)
      for (const e of extra) pendingOwed.set(e, pendingOwed.get(e)! - 1)
    })
    const done = held.filter((e) => owed.get(segmentOf(e.key)) === 0)
    if (done.length > 0) this.c.onHandedOff(done)
    const delivered = [...pendingOwed].filter(([, left]) => left <= 0).map(([e]) => e)
    if (delivered.length > 0) this.c.onPendingDelivered(delivered)
  }

  /**
   * Runs the plan's rounds, at most `maxSyncs` at once; `onAcked` sees the
   * segments and extra entries of each round the peer acknowledged.
   * Resolves with each round's differing segments (undefined: failed).
   */
  private async run(plan: Plan, scan: SegmentScan, onAcked?: (segments: readonly number[], extra: readonly Entry[]) => void): Promise<(number[] | undefined)[]> {
    const jobs = [...plan]
    const results: (number[] | undefined)[] = []
    const worker = async (): Promise<void> => {
      for (let job = jobs.shift(); job !== undefined && !this.closed; job = jobs.shift()) {
        const [peerId, { segments, wants, extra }] = job
        const request: SegmentRequest = { segments, wants, fingerprints: segments.map((s) => scan.fingerprints[s]!) }
        results.push(await this.round(peerId, request, extra).then((r) => {
          const refused = new Set(r.notOwned)
          if (refused.size === 0) onAcked?.(segments, extra)
          else onAcked?.(segments.filter((seg) => !refused.has(seg)), extra.filter((e) => !refused.has(segmentOf(e.key))))
          return r.differing
        }, (err) => {
          this.c.logger.debug(`replication: segment sync with ${peerId} failed: ${String(err)}`)
          return undefined
        }))
      }
    }
    await Promise.all(Array.from({ length: Math.min(jobs.length, Math.max(1, this.config.maxSyncs)) }, worker))
    return results
  }

  private async round(peerId: string, request: SegmentRequest, extra: readonly Entry[]): Promise<SegmentSyncResult> {
    const addr = this.c.cluster.addressOf(peerId)
    if (addr === undefined) throw new Error(`${peerId} is not a live member`)
    let conn: StreamConn | undefined
    try {
      return await initiateSegmentSync(this.c.round, request, extra, async (payload) => (conn = this.track(await this.c.cluster.openStream(addr, StreamTag.SegmentSync, payload))))
    } finally {
      if (conn !== undefined) this.rounds.delete(conn)
    }
  }

  private scan(): SegmentScan {
    return scanSegments(this.c.round.store, this.c.clock.now(), this.c.round.deletionDelayMs)
  }

  private track(conn: StreamConn): StreamConn {
    if (this.closed) conn.destroy()
    else this.rounds.add(conn)
    return conn
  }

  private serve(conn: StreamConn, payload: Buffer): void {
    if (this.closed || this.leaving || !this.started || this.served >= this.config.maxSyncs) {
      this.c.drops.count('segment-sync-busy')
      return conn.destroy()
    }
    this.served++
    this.track(conn)
    respondSegmentSync(this.c.round, conn, payload).catch((err) => {
      this.c.drops.count('segment-sync')
      this.c.logger.debug(`replication: serving segment sync to ${conn.remoteAddress} failed: ${String(err)}`)
    }).finally(() => {
      this.served--
      this.rounds.delete(conn)
    })
  }
}
