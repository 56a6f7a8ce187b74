/**
 * The broadcast queue: what to piggyback on the next outgoing datagram.
 *
 * Every membership update (alive, suspect, dead) and every cache delta is sent
 * a bounded number of times, `retransmitLimit(mult, n)`, then forgotten:
 * infection-style dissemination reaches all `n` nodes with high probability
 * after O(log n) rounds. Items that have been sent least go first, and among
 * equals the newest goes first, so fresh news spreads before stale news
 * (the ordering of memberlist's `TransmitLimitedQueue`).
 *
 * Structure. The cache enqueues 100k+ items per second and `take()` runs for
 * every outgoing datagram, so nothing here is O(queue length):
 *
 * - `buckets[t]` holds the items sent exactly `t` times, as a doubly-linked
 *   list with the newest entry at the head. A new item goes to the head of
 *   `buckets[0]`; an item taken from `buckets[t]` goes to the head of
 *   `buckets[t + 1]` (or leaves the queue once `t + 1` reaches the limit).
 *   "Newest" therefore means "most recently entered this bucket"; items taken
 *   together keep their relative order when they move up.
 * - `bySubject` maps a subject (say, a node id or a cache key) to its node, so
 *   a newer item about the same subject replaces the older one in O(1): the
 *   old one is unlinked and its `onDone(false)` runs. An update that is
 *   already superseded is never worth a byte on the wire.
 * - `take()` walks the buckets from 0 upward and each list from the head,
 *   taking what fits in the remaining budget. It stops when the remaining
 *   budget is below `overhead + minBytes` (nothing queued could fit; `minBytes`
 *   is a lower bound on the smallest queued item, reset when the queue
 *   empties), or after skipping `maxSkipsPerTake` items that did not fit. The
 *   cap is what keeps one large item (or many) from turning every datagram
 *   into a scan of the whole queue; the price is that a small item queued
 *   behind many large ones waits until they move up or out.
 *
 * Taken items are unlinked during the walk and relinked only after it, so one
 * `take()` never returns the same item twice. `onDone` callbacks run after
 * the queue is consistent again, so a callback may enqueue.
 */

/** One item to disseminate. */
export interface Broadcast {
  /**
   * What the item is about. A newer item with the same subject replaces the
   * older one (which gets `onDone(false)`); `undefined` is never replaced.
   */
  subject: string | undefined
  /** The encoded message, reused as-is for every transmit. */
  bytes: Uint8Array
  /**
   * Called exactly once when the item leaves the queue: `sent = true` after
   * its last transmit, `false` when replaced, pruned or reset. Must not throw.
   */
  onDone?: (sent: boolean) => void
}

/**
 * Times each broadcast is sent: `retransmitMult * ceil(log10(numNodes + 1))`.
 * The node-count factor is at least 1 (so `numNodes` of 0 behaves like 1) and
 * the result is at least 1: every item is sent at least once.
 *
 * | mult | numNodes | limit |
 * |------|----------|-------|
 * | 4    | 0..9     | 4     |
 * | 4    | 10..99   | 8     |
 * | 4    | 100..999 | 12    |
 */
export function retransmitLimit(retransmitMult: number, numNodes: number): number {
  const nodeScale = Math.max(1, Math.ceil(Math.log10(Math.max(0, numNodes) + 1)))
  return Math.max(1, retransmitMult * nodeScale)
}

/** Settings for {@link TransmitQueue}. */
export interface TransmitQueueInit {
  /**
   * Times each broadcast is sent: `retransmitMult * ceil(log10(n + 1))`.
   * Higher converges faster under loss, at the cost of bandwidth.
   * @default 4 (filled by the caller)
   */
  retransmitMult: number
  /** Current cluster size estimate; read once per `take()`. */
  numNodes: () => number
  /**
   * Items that did not fit a `take()` may skip before it gives up. Bounds the
   * cost of a datagram when large items crowd the front of the queue.
   * @default 32
   */
  maxSkipsPerTake?: number
}

class QueueNode {
  prev: QueueNode | undefined = undefined
  next: QueueNode | undefined = undefined
  /** Times sent so far; also the index of the bucket holding this node. */
  transmits = 0
  constructor(readonly b: Broadcast) {}
}

class Bucket {
  // newest at head; both undefined iff the bucket is empty
  head: QueueNode | undefined = undefined
  tail: QueueNode | undefined = undefined
}

/**
 * A retransmit-limited, byte-budgeted queue of broadcasts. See the top of
 * `transmit-queue.ts` for the data structure.
 *
 * **Warning:** an item larger than every budget it is offered is never sent;
 * it sits in the queue costing one skip per `take()` until it is replaced,
 * pruned or reset. Send large payloads over a stream instead.
 */
export class TransmitQueue {
  private readonly retransmitMult: number
  private readonly numNodes: () => number
  private readonly maxSkips: number
  private readonly buckets: Bucket[] = []
  // every queued item with a subject, and only those
  private readonly bySubject = new Map<string, QueueNode>()
  // number of linked nodes across all buckets
  private count = 0
  // sum of bytes.length over linked nodes
  private bytes = 0
  // <= bytes.length of every linked node (Infinity when empty)
  private minBytes = Infinity

  constructor(init: TransmitQueueInit) {
    if (!Number.isInteger(init.retransmitMult) || init.retransmitMult < 1) {
      throw new RangeError(`retransmitMult must be an integer >= 1, got ${init.retransmitMult}`)
    }
    const maxSkips = init.maxSkipsPerTake ?? 32
    if (!Number.isInteger(maxSkips) || maxSkips < 0) {
      throw new RangeError(`maxSkipsPerTake must be an integer >= 0, got ${maxSkips}`)
    }
    this.retransmitMult = init.retransmitMult
    this.numNodes = init.numNodes
    this.maxSkips = maxSkips
  }

  /** Queues `b`, replacing (with `onDone(false)`) any item with the same subject. */
  enqueue(b: Broadcast): void {
    const node = new QueueNode(b)
    let replaced: QueueNode | undefined
    if (b.subject !== undefined) {
      replaced = this.bySubject.get(b.subject)
      if (replaced !== undefined) {
        // the index entry is overwritten just below: no need to delete it
        this.unlinkFromBucket(replaced)
        this.uncount(replaced)
      }
      this.bySubject.set(b.subject, node)
    }
    this.linkHead(node, 0)
    replaced?.b.onDone?.(false)
  }

  /**
   * Payloads for one datagram: each costs `bytes.length + overheadBytes`, and
   * the total stays within `limitBytes`. Fewest transmits first, newest first
   * among equals. Each returned item counts one more transmit and leaves the
   * queue (`onDone(true)`) when it reaches the retransmit limit.
   */
  take(overheadBytes: number, limitBytes: number): Uint8Array[] {
    const out: Uint8Array[] = []
    if (this.count === 0) return out
    const taken: QueueNode[] = []
    let remaining = limitBytes
    let skips = 0
    walk: for (let t = 0; t < this.buckets.length; t++) {
      let node = this.buckets[t]!.head
      while (node !== undefined) {
        if (remaining < overheadBytes + this.minBytes) break walk
        const next = node.next
        const cost = node.b.bytes.length + overheadBytes
        if (cost <= remaining) {
          remaining -= cost
          this.unlinkFromBucket(node)
          taken.push(node)
          out.push(node.b.bytes)
        } else if (++skips > this.maxSkips) {
          break walk
        }
        node = next
      }
    }
    if (taken.length === 0) return out

    const limit = retransmitLimit(this.retransmitMult, this.numNodes())
    let finished: QueueNode[] | undefined
    // Reverse order: linking at the head keeps the walk order in the next bucket.
    for (let i = taken.length - 1; i >= 0; i--) {
      const node = taken[i]!
      node.transmits++
      if (node.transmits >= limit) {
        this.forget(node)
        ;(finished ??= []).push(node)
      } else {
        this.relinkHead(node, node.transmits)
      }
    }
    if (finished !== undefined) {
      for (let i = finished.length - 1; i >= 0; i--) finished[i]!.b.onDone?.(true)
    }
    return out
  }

  /** Number of queued items. */
  size(): number {
    return this.count
  }

  /** Sum of `bytes.length` over queued items (framing overhead not included). */
  bytesQueued(): number {
    return this.bytes
  }

  /**
   * Keeps at most `maxItems` items, dropping (with `onDone(false)`) the ones
   * that would be sent last: most transmits first, oldest first among equals.
   */
  prune(maxItems: number): void {
    const keep = Math.max(0, maxItems)
    if (this.count <= keep) return
    const dropped: QueueNode[] = []
    for (let t = this.buckets.length - 1; t >= 0 && this.count > keep; t--) {
      const bucket = this.buckets[t]!
      while (bucket.tail !== undefined && this.count > keep) {
        const node = bucket.tail
        this.unlink(node)
        dropped.push(node)
      }
    }
    for (const node of dropped) node.b.onDone?.(false)
  }

  /** Drops every item, each with `onDone(false)`. */
  reset(): void {
    const dropped: QueueNode[] = []
    for (const bucket of this.buckets) {
      for (let node = bucket.head; node !== undefined; node = node.next) dropped.push(node)
    }
    this.buckets.length = 0
    this.bySubject.clear()
    this.count = 0
    this.bytes = 0
    this.minBytes = Infinity
    for (const node of dropped) node.b.onDone?.(false)
  }

  /** Links a new node at the head of `buckets[t]` and accounts for it. */
  private linkHead(node: QueueNode, t: number): void {
    this.relinkHead(node, t)
    this.count++
    const len = node.b.bytes.length
    this.bytes += len
    if (len < this.minBytes) this.minBytes = len
  }

  /** Links at the head of `buckets[t]` without touching the accounting. */
  private relinkHead(node: QueueNode, t: number): void {
    while (this.buckets.length <= t) this.buckets.push(new Bucket())
    const bucket = this.buckets[t]!
    node.transmits = t
    node.prev = undefined
    node.next = bucket.head
    if (bucket.head !== undefined) bucket.head.prev = node
    else bucket.tail = node
    bucket.head = node
  }

  /** Removes a node from its bucket without touching the accounting. */
  private unlinkFromBucket(node: QueueNode): void {
    const bucket = this.buckets[node.transmits]!
    if (node.prev !== undefined) node.prev.next = node.next
    else bucket.head = node.next
    if (node.next !== undefined) node.next.prev = node.prev
    else bucket.tail = node.prev
    node.prev = undefined
    node.next = undefined
  }

  /** Removes a linked node from the queue entirely. */
  private unlink(node: QueueNode): void {
    this.unlinkFromBucket(node)
    this.forget(node)
  }

  /** Drops an already-unlinked node from the index and the accounting. */
  private forget(node: QueueNode): void {
    const subject = node.b.subject
    if (subject !== undefined && this.bySubject.get(subject) === node) this.bySubject.delete(subject)
    this.uncount(node)
  }

  /** Drops an already-unlinked node from the accounting only. */
  private uncount(node: QueueNode): void {
    this.count--
    this.bytes -= node.b.bytes.length
    if (this.count === 0) this.minBytes = Infinity
  }
}
