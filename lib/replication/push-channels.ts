/**
 * Persistent push streams, one per peer, for what datagrams carry badly:
 * bursts (a turn that wrote more than a few datagrams' worth) and values too
 * large for a datagram. UDP has no flow control: a burst of a thousand
 * datagrams overflows the receiver's socket buffer and most of it is lost;
 * over TCP it arrives whole, paced by the receiver.
 *
 * A channel is opened lazily with the first batch as the first frame
 * (UserStream{tag: Push}); later batches are plain frames on the same
 * connection.
 *
 * **Bounded** (DESIGN.md invariant 10). A peer that stops reading (stopped,
 * swapping, partitioned with the TCP connection still up) must not make the
 * writer buffer without limit. A batch goes to the connection only while it
 * is below its high-water mark (`send()` returns true); otherwise it waits in
 * the channel's queue, which holds at most `maxQueuedBytes`. Beyond, batches
 * are dropped and counted (`push-backlog`); anti-entropy repairs them. A
 * channel that stays congested for `stallMs` is destroyed with what it
 * holds (`push-stalled`), and so is the channel of a member that left or
 * failed. So what one peer can make us hold is about one high-water mark,
 * one batch and `maxQueuedBytes`.
 *
 * **Backpressure.** While any channel is congested, {@link PushChannels.backedUp}
 * is true, and when the last one drains, the `onDrain` callback runs: the
 * facade's `set` returns false and emits `'drain'`, as `stream.write` does,
 * so a writer producing flat out can wait for its slowest receiver instead
 * of outrunning it into `push-backlog` drops (and taking the CPU its peers
 * need to apply its writes).
 */
import type { Clock, Timer } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import type { Logger } from '../logger.js'
import type { StreamConn } from '../transport/transport.js'

interface Channel {
  /** Undefined while the stream is being opened. */
  conn: StreamConn | undefined
  /** Batches waiting for the connection to open or drain. */
  queue: Buffer[]
  queuedBytes: number
  /** The connection is above its high-water mark: queue, and wait for `drain()`. */
  congested: boolean
  /** Destroys the channel if it stays congested (see the file comment). */
  stallTimer: Timer | undefined
  /** Settles once the stream is open or failed to open. */
  ready: Promise<void>
}

export interface PushChannelsComponents {
  /** Opens a push stream to `addr` whose first frame carries `firstBatch`. */
  open: (addr: string, firstBatch: Buffer) => Promise<StreamConn>
  /** Called when no channel is congested any more (see the file comment). */
  onDrain?: () => void
  clock: Clock
  logger: Logger
  drops: DropCounts
}

export interface PushChannelLimits {
  /** Most bytes queued per channel beyond the connection's own buffer. */
  maxQueuedBytes: number
  /** How long a channel may stay congested before it is destroyed. */
  stallMs: number
}

export class PushChannels {
  private readonly channels = new Map<string, Channel>()
  /** Channels congested now. */
  private congestedCount = 0

  constructor(private readonly c: PushChannelsComponents, private readonly limits: PushChannelLimits) {}

  /** Sends one encoded batch to `addr`. */
  send(addr: string, batch: Buffer): void {
    const ch = this.channels.get(addr)
    if (ch === undefined) return this.openChannel(addr, batch)
    if (ch.conn !== undefined && !ch.congested && ch.queue.length === 0) {
      if (!ch.conn.send(batch)) this.congest(addr, ch)
      return
    }
    if (ch.queuedBytes + batch.length > this.limits.maxQueuedBytes) return this.c.drops.count('push-backlog')
    ch.queue.push(batch)
    ch.queuedBytes += batch.length
  }

  /** Whether some channel is congested: a writer should wait for `onDrain` (see the file comment). */
  backedUp(): boolean {
    return this.congestedCount !== 0
  }

  /** Whether the channel toward `addr` is congested now. */
  congestedToward(addr: string): boolean {
    return this.channels.get(addr)?.congested === true
  }

  /** Bytes queued toward every peer (excluding what the connections themselves buffer). */
  queuedBytes(): number {
    let n = 0
    for (const ch of this.channels.values()) n += ch.queuedBytes
    return n
  }

  /** Destroys the channel to `addr` with what it holds (the member left or failed). */
  forget(addr: string): void {
    const ch = this.channels.get(addr)
    if (ch === undefined) return
    this.channels.delete(addr)
    this.end(ch)
    ch.conn?.destroy()
  }

  /**
   * Closes every channel after what it holds was sent, waiting at most
   * `graceMs` (a peer that does not read cannot hold up a close); then
   * destroys whatever is left.
   */
  async closeAll(graceMs: number): Promise<void> {
    const all = [...this.channels.entries()]
    const flushed = all.map(([, ch]) => this.flushed(ch))
    let timer: Timer | undefined
    await Promise.race([
      Promise.all(flushed),
      new Promise<void>((resolve) => { timer = this.c.clock.setTimeout(resolve, graceMs) })
    ])
    if (timer !== undefined) this.c.clock.clearTimeout(timer)
    for (const [addr, ch] of all) {
      if (this.channels.get(addr) === ch) this.channels.delete(addr)
      const clean = !ch.congested // before end(), which clears it
      this.end(ch)
      if (ch.conn !== undefined && clean) ch.conn.close()
      else ch.conn?.destroy()
    }
  }

  /** Open channels, for stats and tests. */
  size(): number {
    return this.channels.size
  }

  private openChannel(addr: string, first: Buffer): void {
    const ch: Channel = { conn: undefined, queue: [], queuedBytes: 0, congested: false, stallTimer: undefined, ready: Promise.resolve() }
    this.channels.set(addr, ch)
    ch.ready = this.c.open(addr, first).then(
      (conn) => {
        if (this.channels.get(addr) !== ch) return conn.destroy()
        ch.conn = conn
        // Nothing comes back on a push stream; a frame or a close ends it.
        conn.onFrame(() => conn.destroy())
        conn.onClose(() => {
          if (this.channels.get(addr) === ch) this.channels.delete(addr)
          this.end(ch)
        })
        this.pump(addr, ch)
      },
      (err) => {
        if (this.channels.get(addr) === ch) this.channels.delete(addr)
        this.end(ch)
        this.c.drops.count('push-stream')
        this.c.logger.debug(`replication: push stream to ${addr} failed: ${String(err)}`)
      }
    )
  }

  /** Moves queued batches to the connection until it is congested or the queue is empty. */
  private pump(addr: string, ch: Channel): void {
    const conn = ch.conn
    if (conn === undefined || conn.closed) return
    while (ch.queue.length > 0) {
      const b = ch.queue.shift()!
      ch.queuedBytes -= b.length
      if (!conn.send(b)) return this.congest(addr, ch)
    }
  }

  private congest(addr: string, ch: Channel): void {
    if (ch.congested) return
    ch.congested = true
    this.congestedCount++
    ch.stallTimer = this.c.clock.setTimeout(() => {
      if (this.channels.get(addr) !== ch) return
      this.c.drops.count('push-stalled')
      this.c.logger.debug(`replication: push stream to ${addr} stalled for ${this.limits.stallMs} ms; dropped (anti-entropy repairs)`)
      this.forget(addr)
    }, this.limits.stallMs)
    ch.conn!.drain().then(() => {
      if (this.channels.get(addr) !== ch || !ch.congested) return
      this.uncongest(ch)
      if (ch.stallTimer !== undefined) this.c.clock.clearTimeout(ch.stallTimer)
      ch.stallTimer = undefined
      this.pump(addr, ch)
      if (this.congestedCount === 0) this.c.onDrain?.()
    }, () => {})
  }

  private uncongest(ch: Channel): void {
    if (!ch.congested) return
    ch.congested = false
    this.congestedCount--
  }

  /** Resolves once `ch` holds nothing more than its connection drains. */
  private async flushed(ch: Channel): Promise<void> {
    await ch.ready
    while (ch.conn !== undefined && !ch.conn.closed && (ch.queue.length > 0 || ch.congested)) await ch.conn.drain()
    if (ch.conn !== undefined && !ch.conn.closed) await ch.conn.drain()
  }

  /** Stops the channel's timer and forgets what it queued (counted). */
  private end(ch: Channel): void {
    if (ch.stallTimer !== undefined) this.c.clock.clearTimeout(ch.stallTimer)
    ch.stallTimer = undefined
    if (ch.congested) {
      this.uncongest(ch)
      if (this.congestedCount === 0) this.c.onDrain?.()
    }
    if (ch.queue.length > 0) this.c.drops.count('push-dropped', ch.queue.length)
    ch.queue = []
    ch.queuedBytes = 0
  }
}
