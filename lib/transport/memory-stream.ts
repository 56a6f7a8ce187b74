/**
 * One end of an in-memory stream: the {@link StreamConn} that
 * `MemoryTransport.dialStream` hands out, built in connected pairs.
 *
 * Each end owns the queue of items in flight *to* it: frames and FIN (the
 * peer stopped sending; `null` in the queue). `send` copies the frame and
 * appends it to the peer's queue, an {@link OrderedArrivals}: frames never
 * overtake each other, whatever the delays (see `ordered-arrivals.ts`).
 *
 * Until a frame handler is set, arriving items wait in `unhandled` (the
 * in-memory analogue of a paused socket); the FIN waits behind them, so a
 * late handler still sees every frame before the close.
 *
 * Backpressure: each end counts the bytes it sent that the peer has not yet
 * handed to its frame handler (in flight plus unread: the socket buffers of
 * both sides together). `send` still queues the frame but returns false once
 * that count reaches the owner's `streamHighWaterBytes`, as `socket.write`
 * does; `drain()` resolves when the reader has consumed below the mark (or
 * the stream finished). A reader that stops reading (`pauseReading()` on the
 * end, or on its whole transport: the model of a SIGSTOPped peer) leaves
 * arriving items (FIN included) waiting in `unhandled`, so the writer's count
 * only grows and a writer that honours `send`'s result stops at the mark.
 * `peakUnreadBytes` records the largest count ever reached, so tests can
 * tell a writer that ignored `false` from one that waited (the count and
 * its waiters: `unread-bytes.ts`).
 *
 * Closing mirrors TCP with `allowHalfOpen: false`: `close()` sends FIN after
 * the queued frames; the peer, on FIN, sends its own FIN and finishes; the
 * closer finishes when that FIN comes back. `destroy()` finishes at once and
 * still sends FIN (the peer sees an orderly close, as with a real socket). If
 * the path between the ends is cut (partition or block, in either
 * direction), the next `send` resets the stream: both ends finish with a
 * `StreamError` and frames in flight are discarded. Close handlers always run
 * from a clock timer, never inside the call that caused them.
 */
import type { Clock } from '../clock.js'
import { StreamError } from '../errors.js'
import type { Logger } from '../logger.js'
import { OrderedArrivals } from './ordered-arrivals.js'
import { LENGTH_PREFIX_BYTES } from './framing.js'
import type { StreamConn } from './transport.js'
import type { TransportCounters } from './transport-counters.js'
import { UnreadBytes } from './unread-bytes.js'

/** What stream ends need from the network they run on. */
export interface StreamPath {
  readonly clock: Clock
  /** True when packets can flow both ways between `a` and `b`. */
  connected(a: string, b: string): boolean
  /** The one-way delay, in ms, for the next segment from `from` to `to`. */
  streamDelay(from: string, to: string): number
}

/** What a stream end needs from the transport that owns it. */
export interface StreamOwner {
  readonly address: string
  readonly counters: TransportCounters
  readonly logger: Logger
  readonly maxFrameBytes: number
  /** Bytes unread by the peer at which `send` starts returning false. */
  readonly streamHighWaterBytes: number
  /** True while the owner's whole transport has stopped reading its streams. */
  readonly readingPaused: boolean
  /** Called once when the end has finished. */
  forget(conn: MemoryStreamConn): void
}

/** Returns `[dialer's end, listener's end]` of a new stream. */
export function connectPair(path: StreamPath, dialer: StreamOwner, listener: StreamOwner): [MemoryStreamConn, MemoryStreamConn] {
  const a = new MemoryStreamConn(path, dialer, listener.address)
  const b = new MemoryStreamConn(path, listener, dialer.address)
  a.peer = b
  b.peer = a
  return [a, b]
}

/** One end of an in-memory stream. */
export class MemoryStreamConn implements StreamConn {
  readonly remoteAddress: string
  /** @internal the other end; set by {@link connectPair} */
  peer!: MemoryStreamConn
  private readonly path: StreamPath
  private readonly owner: StreamOwner
  // false once we sent (or will send no more) FIN
  private sending = true
  // true once this end is done: no more deliveries, close handler scheduled
  private finished = false
  private closeNotified = false
  private error: Error | undefined
  private frameHandler: ((frame: Buffer) => void) | undefined
  private closeHandler: ((err?: Error) => void) | undefined
  // items in flight to this end, in order; null = FIN
  private readonly inbound: OrderedArrivals<Buffer | null>
  // arrived before a frame handler was set, in order; null = FIN
  private unhandled: (Buffer | null)[] = []
  private flushScheduled = false
  // bytes this end sent that the peer's frame handler has not taken yet
  private readonly unreadOut: UnreadBytes
  private paused = false
  private readonly flushFn = (): void => this.flushUnhandled()
  private readonly notifyFn = (): void => this.notifyClose()

  constructor(path: StreamPath, owner: StreamOwner, remoteAddress: string) {
    this.path = path
    this.owner = owner
    this.remoteAddress = remoteAddress
    this.inbound = new OrderedArrivals(path.clock, () => this.arrive())
    this.unreadOut = new UnreadBytes(() => owner.streamHighWaterBytes)
  }

  get closed(): boolean {
    return !this.sending || this.finished
  }

  /** Bytes sent on this end that the peer has not read yet. */
  get unreadBytes(): number {
    return this.unreadOut.count
  }

  /** The largest {@link MemoryStreamConn.unreadBytes} ever reached on this end. */
  get peakUnreadBytes(): number {
    return this.unreadOut.peak
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) return false
    if (!this.path.connected(this.owner.address, this.remoteAddress)) {
      this.reset(`the path between ${this.owner.address} and ${this.remoteAddress} is blocked`)
      return false
    }
    this.owner.counters.bytesOut += frame.length
    this.owner.counters.streamBytesOut += frame.length + LENGTH_PREFIX_BYTES
    if (!this.peer.finished) this.unreadOut.add(frame.length)
    this.peer.enqueue(Buffer.from(frame), this.delayToPeer())
    return this.unreadOut.belowMark()
  }

  drain(): Promise<void> {
    if (this.finished || this.unreadOut.belowMark()) return Promise.resolve()
    return this.unreadOut.wait()
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.frameHandler = handler
    this.scheduleFlush()
  }

  /** Stops handing arriving frames (and FIN) to the handler; they wait, and the writer's buffer fills. */
  pauseReading(): void {
    this.paused = true
  }

  /** Undoes {@link MemoryStreamConn.pauseReading}: what waited is delivered from a clock timer. */
  resumeReading(): void {
    this.paused = false
    this.scheduleFlush()
  }

  /** @internal the owner's transport resumed reading: deliver what waited. */
  scheduleFlush(): void {
    if (this.unhandled.length > 0 && !this.flushScheduled && this.frameHandler !== undefined) {
      this.flushScheduled = true
      this.path.clock.setTimeout(this.flushFn, 0)
    }
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler
    if (this.finished && !this.closeNotified) this.path.clock.setTimeout(this.notifyFn, 0)
  }

  close(): void {
    if (this.closed) return
    this.sending = false
    this.peer.enqueue(null, this.delayToPeer())
  }

  destroy(err?: Error): void {
    if (this.finished) return
    const sendFin = this.sending
    this.finish(err)
    if (sendFin) this.peer.enqueue(null, this.delayToPeer())
  }

  /** @internal schedules an item (frame, or null = FIN) to arrive at this end. */
  enqueue(item: Buffer | null, delayMs: number): void {
    if (this.finished) return
    this.inbound.push(item, delayMs)
  }

  /** @internal ends the stream on both sides with a `StreamError` (connection reset). */
  reset(why: string): void {
    this.finish(new StreamError(`connection with ${this.remoteAddress} reset: ${why}`))
    this.peer.finish(new StreamError(`connection with ${this.peer.remoteAddress} reset: ${why}`))
  }

  /** One clock timer per item: takes the head of the queue. */
  private arrive(): void {
    if (!this.inbound.pending) return // the queue was discarded
    const item = this.inbound.shift()
    if (this.finished) return
    if (item !== null && item.length > this.owner.maxFrameBytes) {
      this.owner.counters.drop('frame-too-large')
      this.reset(`frame of ${item.length} bytes exceeds maxFrameBytes ${this.owner.maxFrameBytes}`)
      return
    }
    // a FIN waits only behind frames that wait (or while reading is paused); else it closes at once
    if (this.unhandled.length > 0 || this.readingStopped() || (item !== null && this.frameHandler === undefined)) {
      this.unhandled.push(item)
      return
    }
    this.take(item)
  }

  /** Handles one arrived item (a handler is set, or it is FIN); false when the stream ended. */
  private take(item: Buffer | null): boolean {
    if (item === null) {
      // the peer is done: answer with our FIN (no half-open streams) and finish
      if (this.sending) {
        this.sending = false
        this.peer.enqueue(null, this.delayToPeer())
      }
      this.finish(undefined)
      return false
    }
    this.owner.counters.bytesIn += item.length
    this.owner.counters.streamBytesIn += item.length + LENGTH_PREFIX_BYTES
    this.peer.unreadOut.consumed(item.length)
    try {
      this.frameHandler!(item)
      return true
    } catch (err) {
      this.owner.counters.drop('frame-handler-error')
      this.owner.logger.debug(`transport: frame handler for ${this.remoteAddress} threw`, err)
      this.destroy(new StreamError(`frame handler for ${this.remoteAddress} threw`, { cause: err }))
      return false
    }
  }

  private readingStopped(): boolean {
    return this.paused || this.owner.readingPaused
  }

  private flushUnhandled(): void {
    this.flushScheduled = false
    let i = 0
    while (i < this.unhandled.length && !this.finished && !this.readingStopped()) {
      if (!this.take(this.unhandled[i++] as Buffer | null)) break
    }
    if (!this.finished) this.unhandled = this.unhandled.slice(i)
  }

  /** @internal marks this end done, discards what is in flight, schedules the close handler. */
  finish(err: Error | undefined): void {
    if (this.finished) return
    this.finished = true
    this.sending = false
    this.error = err
    this.inbound.clear()
    this.unhandled = []
    // bytes toward a finished end are gone: nobody waits on them any more
    this.peer.unreadOut.reset()
    this.unreadOut.release()
    this.owner.forget(this)
    this.path.clock.setTimeout(this.notifyFn, 0)
  }

  private notifyClose(): void {
    const handler = this.closeHandler
    if (handler === undefined || this.closeNotified) return
    this.closeNotified = true
    try {
      handler(this.error)
    } catch (err) {
      this.owner.logger.debug(`transport: close handler for ${this.remoteAddress} threw`, err)
    }
  }

  private delayToPeer(): number {
    return this.path.streamDelay(this.owner.address, this.remoteAddress)
  }
}
