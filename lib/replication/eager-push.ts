/**
 * Eager push: the writes of one event-loop turn reach every live member at
 * the end of that turn, packed into as few datagrams as fit the budget (each
 * datagram built once for all members). A turn that needs more than
 * {@link MAX_PUSH_DATAGRAMS} datagrams per member (a burst), and every delta
 * too large for a datagram, goes over the members' push streams instead, in
 * batches of about `BATCH_TARGET_BYTES` (never one frame a receiver would
 * refuse: a turn of 20,000 writes is many batches, not one 20 MB frame).
 * Datagram-pushed deltas also feed the gossip queue (gossip-feed.ts).
 * Past a fan-out, datagrams go to one relay per group instead of to every
 * member (relay-push.ts); bursts and large deltas still stream to every one.
 *
 * Pacing: datagrams are also paced over time, by a token bucket of
 * {@link PUSH_DATAGRAMS_PER_SEC} per second (bursts up to
 * {@link PUSH_DATAGRAM_BURST}). A writer that sustains many small turns —
 * a paced loop at 100k sets/s writes a few deltas per turn, each turn well
 * under the per-turn limit — would otherwise send tens of thousands of
 * datagrams a second to every peer, overflow their socket buffers, and
 * leave the lost writes to anti-entropy. Past the budget, turns go over the
 * push streams, whose flow control slows a fast writer down to what each
 * receiver reads (and so shares the receiver fairly between writers).
 */
import type { Cluster } from '../membership/cluster.js'
import { userOverhead } from '../wire/codec.js'
import { encodeBatch, splitBatches } from './delta.js'
import type { GossipFeed } from './gossip-feed.js'
import type { PushChannels } from './push-channels.js'
import { encodeRelayHeader, RELAY_HEADER_COST, type RelayPlan, type RelayPush } from './relay-push.js'
import type { ReplicationCounters } from './replication-stats.js'

/**
 * A turn whose writes need more datagrams than this per peer goes over the
 * peer's push stream instead (a UDP burst would overflow socket buffers).
 */
export const MAX_PUSH_DATAGRAMS = 8

/** Datagrams per second, to each peer, the eager push sends at most on average (see the file comment). */
export const PUSH_DATAGRAMS_PER_SEC = 2000

/** Datagrams the pacing lets through at once after a quiet spell. */
export const PUSH_DATAGRAM_BURST = 4 * MAX_PUSH_DATAGRAMS

export interface EagerPushComponents {
  cluster: Cluster
  channels: PushChannels
  gossip: GossipFeed
  stats: ReplicationCounters
  /** Runs `fn` once the current event-loop turn's work is done. */
  defer: (fn: () => void) => void
  /** Milliseconds (the node's clock), for pacing. */
  now: () => number
  /** Relayed push past the fan-out (relay-push.ts); without it, every member is pushed to directly. */
  relay?: RelayPush | undefined
}

export class EagerPush {
  /** Deltas written this turn, and their keys (same order), until {@link flush}. */
  private pending: Buffer[] = []
  private pendingKeys: string[] = []
  private scheduled = false
  private closed = false
  private readonly pacing: DatagramPacing

  /** @param roomBytes - room for user payloads in one datagram. */
  constructor(private readonly c: EagerPushComponents, private readonly roomBytes: number) {
    this.pacing = new DatagramPacing(c.now)
  }

  /** Queues one encoded delta of `key` for the end of this turn. */
  add(delta: Buffer, key: string): void {
    this.pending.push(delta)
    this.pendingKeys.push(key)
    if (!this.scheduled) {
      this.scheduled = true
      this.c.defer(() => this.flush())
    }
  }

  /** Sends what this turn wrote (at the end of the turn, or at once before a close). */
  flush(): void {
    this.scheduled = false
    const pending = this.pending
    const keys = this.pendingKeys
    this.pending = []
    this.pendingKeys = []
    if (this.closed || pending.length === 0) return
    const peers = this.c.cluster.livePeers()
    if (peers.length === 0) return
    const addrs = peers.map((p) => p.address)
    const plan = this.c.relay?.plan(peers)
    const { datagrams, large } = packDatagrams(pending, plan === undefined ? this.roomBytes : this.roomBytes - RELAY_HEADER_COST)
    if (datagrams.length > MAX_PUSH_DATAGRAMS || !this.pacing.take(datagrams.length)) {
      this.c.stats.pushPaced += datagrams.length <= MAX_PUSH_DATAGRAMS ? 1 : 0
      return this.stream(pending, addrs)
    }
    for (const g of datagrams) this.send(g, addrs, plan)
    if (large.length > 0) this.stream(large, addrs)
    this.c.gossip.enqueue(pending, keys)
  }

  /** One datagram to every member (`addrs`), or, past the fan-out, to the plan's relays (with a relay header) and direct members. */
  private send(g: readonly Buffer[], addrs: readonly string[], plan: RelayPlan | undefined): void {
    const { cluster, stats } = this.c
    if (plan === undefined) {
      cluster.sendPayloads(addrs, g)
      stats.pushDatagrams += addrs.length
      return
    }
    if (plan.relays.length > 0) cluster.sendPayloads(plan.relays, [encodeRelayHeader(plan.k, g.length), ...g])
    if (plan.direct.length > 0) cluster.sendPayloads(plan.direct, g)
    stats.pushDatagrams += plan.relays.length + plan.direct.length
  }

  /** Drops what is pending; later writes are not pushed. */
  close(): void {
    this.closed = true
    this.pending = []
    this.pendingKeys = []
  }

  private stream(deltas: readonly Buffer[], addrs: readonly string[]): void {
    for (const group of splitBatches(deltas)) {
      const batch = encodeBatch(group)
      this.c.stats.pushBatches++
      for (const addr of addrs) this.c.channels.send(addr, batch)
    }
  }
}

/** The pacing of the file comment: a token bucket of datagrams. */
class DatagramPacing {
  private tokens = PUSH_DATAGRAM_BURST
  private toppedAt = -Infinity

  constructor(private readonly now: () => number) {}

  /** Takes `n` datagrams from the budget, if it has them. */
  take(n: number): boolean {
    const now = this.now()
    if (now > this.toppedAt) {
      this.tokens = Math.min(PUSH_DATAGRAM_BURST, this.tokens + ((now - this.toppedAt) * PUSH_DATAGRAMS_PER_SEC) / 1000)
      this.toppedAt = now
    }
    if (this.tokens < n) return false
    this.tokens -= n
    return true
  }
}

/** Groups deltas into datagrams of at most `room` bytes; deltas that fit none are `large`. */
function packDatagrams(deltas: readonly Buffer[], room: number): { datagrams: Buffer[][]; large: Buffer[] } {
  const datagrams: Buffer[][] = []
  const large: Buffer[] = []
  let group: Buffer[] = []
  let left = room
  for (const d of deltas) {
    const cost = d.length + userOverhead(d.length)
    if (cost > room) {
      large.push(d)
      continue
    }
    if (cost > left) {
      datagrams.push(group)
      group = []
      left = room
    }
    group.push(d)
    left -= cost
  }
  if (group.length > 0) datagrams.push(group)
  return { datagrams, large }
}
