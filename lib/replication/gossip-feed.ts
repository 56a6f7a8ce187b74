/**
 * Redundancy against datagram loss: every delta that was eagerly pushed in
 * a datagram also enters a transmit-limited broadcast queue, and membership
 * piggybacks it on its probes and gossip ticks (`getBroadcasts`) until it was
 * sent `deltaRetransmitMult · log(N)` times or newer deltas of the same key
 * replaced it. Stream pushes are reliable and skip it; so do deltas too
 * large for a datagram. Whatever still gets lost, anti-entropy repairs.
 */
import { TransmitQueue } from '../gossip/transmit-queue.js'
import { userOverhead } from '../wire/codec.js'

export interface GossipFeedInit {
  /** Retransmissions per delta (`0` turns the feed off). */
  deltaRetransmitMult: number
  /** Most deltas queued; the oldest go first beyond it. */
  maxQueuedDeltas: number
  /** Room for user payloads in one datagram, in bytes. */
  roomBytes: number
}

export class GossipFeed {
  private readonly queue: TransmitQueue

  constructor(numLive: () => number, private readonly init: GossipFeedInit) {
    this.queue = new TransmitQueue({ retransmitMult: Math.max(1, init.deltaRetransmitMult), numNodes: numLive })
  }

  /** Queues `deltas` (of `keys`, same order) that fit a datagram. */
  enqueue(deltas: readonly Buffer[], keys: readonly string[]): void {
    if (this.init.deltaRetransmitMult === 0) return
    const room = this.init.roomBytes
    for (let i = 0; i < deltas.length; i++) {
      const d = deltas[i]!
      if (d.length + userOverhead(d.length) <= room) this.queue.enqueue({ subject: keys[i], bytes: d })
    }
    if (this.queue.size() > this.init.maxQueuedDeltas) this.queue.prune(this.init.maxQueuedDeltas)
  }

  /** What membership piggybacks on one datagram (the delegate's `getBroadcasts`). */
  take(overheadBytes: number, limitBytes: number): Uint8Array[] {
    return this.queue.take(overheadBytes, limitBytes)
  }

  size(): number {
    return this.queue.size()
  }

  reset(): void {
    this.queue.reset()
  }
}
