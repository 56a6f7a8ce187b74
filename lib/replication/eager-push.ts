/**
 * Eager push: the writes of one event-loop turn reach every live member at
 * the end of that turn, packed into as few datagrams as fit the budget (each
 * datagram built once for all members). A turn that needs more than
 * {@link MAX_PUSH_DATAGRAMS} datagrams per member (a burst), and every delta
 * too large for a datagram, goes over the members' push streams instead, in
 * batches of about `BATCH_TARGET_BYTES` (never one frame a receiver would
 * refuse: a turn of 20,000 writes is many batches, not one 20 MB frame).
 * Datagram-pushed deltas also feed the gossip queue (gossip-feed.ts).
 */
import type { Cluster } from '../membership/cluster.js'
import { userOverhead } from '../wire/codec.js'
import { encodeBatch, splitBatches } from './delta.js'
import type { GossipFeed } from './gossip-feed.js'
import type { PushChannels } from './push-channels.js'
import type { ReplicationCounters } from './replication-stats.js'

/**
 * A turn whose writes need more datagrams than this per peer goes over the
 * peer's push stream instead (a UDP burst would overflow socket buffers).
 */
export const MAX_PUSH_DATAGRAMS = 8

export interface EagerPushComponents {
  cluster: Cluster
  channels: PushChannels
  gossip: GossipFeed
  stats: ReplicationCounters
  /** Runs `fn` once the current event-loop turn's work is done. */
  defer: (fn: () => void) => void
}

export class EagerPush {
  /** Deltas written this turn, and their keys (same order), until {@link flush}. */
  private pending: Buffer[] = []
  private pendingKeys: string[] = []
  private scheduled = false
  private closed = false

  /** @param roomBytes - room for user payloads in one datagram. */
  constructor(private readonly c: EagerPushComponents, private readonly roomBytes: number) {}

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
    const addrs = this.c.cluster.livePeers().map((p) => p.address)
    if (addrs.length === 0) return
    const { datagrams, large } = this.pack(pending)
    if (datagrams.length > MAX_PUSH_DATAGRAMS) return this.stream(pending, addrs)
    for (const g of datagrams) {
      this.c.cluster.sendPayloads(addrs, g)
      this.c.stats.pushDatagrams += addrs.length
    }
    if (large.length > 0) this.stream(large, addrs)
    this.c.gossip.enqueue(pending, keys)
  }

  /** Drops what is pending; later writes are not pushed. */
  close(): void {
    this.closed = true
    this.pending = []
    this.pendingKeys = []
  }

  /** Groups deltas into datagrams of at most `roomBytes`; deltas that fit none are `large`. */
  private pack(deltas: readonly Buffer[]): { datagrams: Buffer[][]; large: Buffer[] } {
    const room = this.roomBytes
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

  private stream(deltas: readonly Buffer[], addrs: readonly string[]): void {
    for (const group of splitBatches(deltas)) {
      const batch = encodeBatch(group)
      this.c.stats.pushBatches++
      for (const addr of addrs) this.c.channels.send(addr, batch)
    }
  }
}
