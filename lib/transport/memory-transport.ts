/**
 * A {@link Transport} bound to one address of a `MemoryNetwork`. It keeps
 * the per-node state (handlers, open streams, pending dials, counters); the
 * network decides what is reachable, how long things take, and what is lost.
 *
 * Dialing a stream takes one network delay, like a TCP handshake. If the path
 * is cut (partition, or a block in either direction) the dial hangs until
 * `timeoutMs` and rejects with `TimeoutError`, the way a SYN into a black hole
 * does. If nothing is bound at the target, it rejects with `StreamError`
 * after the delay (connection refused).
 *
 * Streams have backpressure (see `memory-stream.ts`): `send` returns false
 * once `streamHighWaterBytes` are unread by the peer. `pauseReading()` makes
 * this whole transport stop reading its streams, old and new, the way a
 * SIGSTOPped process does: peers' writes pile up unread until
 * `resumeReading()`. Datagrams are unaffected (a stopped process's kernel
 * still drops or queues them; the simulator models that with loss).
 */
import { DEFAULT_MAX_FRAME_BYTES } from './framing.js'
import type { Timer } from '../clock.js'
import { ClosedError, StreamError, TimeoutError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { connectPair, MemoryStreamConn, type StreamOwner, type StreamPath } from './memory-stream.js'
import { deliverStream, TransportCounters } from './transport-counters.js'
import {
  parseAddress,
  type PacketHandler,
  type StreamConn,
  type StreamHandler,
  type Transport,
  type TransportStats
} from './transport.js'

/** What a {@link MemoryTransport} needs from its network. */
export interface MemoryFabric extends StreamPath {
  /** Routes one datagram (after the sender's own checks); copies `data`. */
  routePacket(from: string, to: string, data: Uint8Array): void
  /** The open transport bound at `address`, if any. */
  lookup(address: string): MemoryTransport | undefined
  /** Unbinds a transport that is closing. */
  release(transport: MemoryTransport): void
  /** Counts a stream that was established. */
  streamOpened(): void
}

/** Per-transport settings for `MemoryNetwork.bind`. */
export interface MemoryTransportInit {
  /**
   * Largest stream frame accepted; a larger one resets the stream.
   * @default 16 MiB
   */
  maxFrameBytes?: number
  /**
   * Largest datagram sent; larger ones are dropped and counted.
   * @default 65507
   */
  maxPacketBytes?: number
  /**
   * Bytes a stream end may have unread by its peer before `send` returns false.
   * @default 65536 (64 KiB, like a socket's buffers)
   */
  streamHighWaterBytes?: number
  /** @default silentLogger */
  logger?: Logger
}

interface PendingDial {
  readonly to: string
  readonly timeoutMs: number
  readonly deadlineMs: number
  readonly resolve: (conn: StreamConn) => void
  readonly reject: (err: Error) => void
  timer: Timer | undefined
}

/** One node's endpoint on a `MemoryNetwork`. Create with `network.bind()`. */
export class MemoryTransport implements Transport, StreamOwner {
  readonly address: string
  readonly counters = new TransportCounters()
  readonly logger: Logger
  readonly maxFrameBytes: number
  readonly maxPacketBytes: number
  readonly streamHighWaterBytes: number
  private readingStopped = false
  // largest unread count of any stream end this transport ever had
  private peakUnread = 0
  private readonly fabric: MemoryFabric
  private packetHandler: PacketHandler | undefined
  private streamHandler: StreamHandler | undefined
  // open streams of either direction: close() destroys them
  private readonly conns = new Set<MemoryStreamConn>()
  // dials not yet settled: close() rejects them
  private readonly dials = new Set<PendingDial>()
  private isClosed = false

  /** @internal use `MemoryNetwork.bind` */
  constructor(fabric: MemoryFabric, address: string, init: MemoryTransportInit = {}) {
    this.fabric = fabric
    this.address = address
    this.logger = init.logger ?? silentLogger
    this.maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
    this.maxPacketBytes = init.maxPacketBytes ?? 65507
    const hwm = init.streamHighWaterBytes ?? 64 * 1024
    if (!Number.isInteger(hwm) || hwm < 1) throw new RangeError(`streamHighWaterBytes must be an integer >= 1, got ${hwm}`)
    this.streamHighWaterBytes = hwm
  }

  /** True while {@link MemoryTransport.pauseReading} is in effect. */
  get readingPaused(): boolean {
    return this.readingStopped
  }

  /** Stops reading every stream of this transport (a SIGSTOPped peer); writers toward it fill up. */
  pauseReading(): void {
    this.readingStopped = true
  }

  /** Resumes reading: frames that waited are delivered from clock timers, in order. */
  resumeReading(): void {
    this.readingStopped = false
    for (const conn of this.conns) conn.scheduleFlush()
  }

  /** Bytes this transport's open streams sent that their peers have not read yet. */
  bufferedBytes(): number {
    let n = 0
    for (const conn of this.conns) n += conn.unreadBytes
    return n
  }

  /** The largest unread count any one stream end of this transport ever reached (closed ones included). */
  peakStreamUnreadBytes(): number {
    let peak = this.peakUnread
    for (const conn of this.conns) peak = Math.max(peak, conn.peakUnreadBytes)
    return peak
  }

  /** True after `close()`. */
  get closed(): boolean {
    return this.isClosed
  }

  sendPacket(to: string, data: Uint8Array): void {
    if (this.isClosed) return this.counters.drop('closed')
    if (data.length > this.maxPacketBytes) return this.counters.drop('packet-too-large')
    this.counters.packetsOut++
    this.counters.bytesOut += data.length
    this.counters.packetBytesOut += data.length
    this.fabric.routePacket(this.address, to, data)
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler
  }

  dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.isClosed) return Promise.reject(new ClosedError('transport'))
    try {
      parseAddress(to)
    } catch (err) {
      return Promise.reject(new StreamError(`cannot dial "${to}": ${(err as Error).message}`, { cause: err }))
    }
    return new Promise((resolve, reject) => {
      const clock = this.fabric.clock
      const dial: PendingDial = { to, timeoutMs, deadlineMs: clock.now() + timeoutMs, resolve, reject, timer: undefined }
      this.dials.add(dial)
      const delay = this.fabric.connected(this.address, to) ? this.fabric.streamDelay(this.address, to) : Infinity
      if (delay < timeoutMs) dial.timer = clock.setTimeout(() => this.completeDial(dial), delay)
      else this.timeOutAtDeadline(dial)
    })
  }

  stats(): TransportStats {
    return this.counters.snapshot()
  }

  /** Unbinds the address, rejects pending dials and destroys every stream. Idempotent. */
  close(): Promise<void> {
    if (this.isClosed) return Promise.resolve()
    this.isClosed = true
    this.fabric.release(this)
    for (const dial of this.dials) {
      if (dial.timer !== undefined) this.fabric.clock.clearTimeout(dial.timer)
      dial.reject(new ClosedError('transport'))
    }
    this.dials.clear()
    for (const conn of this.conns) conn.destroy(new ClosedError('transport'))
    this.conns.clear()
    return Promise.resolve()
  }

  /** @internal a datagram arrives from the network */
  receivePacket(data: Buffer, from: string): void {
    if (this.isClosed) return
    this.counters.packetsIn++
    this.counters.bytesIn += data.length
    this.counters.packetBytesIn += data.length
    const handler = this.packetHandler
    if (handler === undefined) return this.counters.drop('no-packet-handler')
    try {
      handler(data, from)
    } catch (err) {
      this.counters.drop('handler-error')
      this.logger.debug(`transport: packet handler threw for a datagram from ${from}`, err)
    }
  }

  /** @internal a peer's dial reached us: `conn` is our end */
  accept(conn: MemoryStreamConn): void {
    this.conns.add(conn)
    this.counters.streamsIn++
    deliverStream(conn, this.streamHandler, this.counters, this.logger)
  }

  /** @internal a stream end of ours finished */
  forget(conn: MemoryStreamConn): void {
    this.peakUnread = Math.max(this.peakUnread, conn.peakUnreadBytes)
    this.conns.delete(conn)
  }

  /** The handshake reached the target (one delay after the dial). */
  private completeDial(dial: PendingDial): void {
    if (!this.fabric.connected(this.address, dial.to)) return this.timeOutAtDeadline(dial)
    const listener = this.fabric.lookup(dial.to)
    if (listener === undefined) return this.settleDial(dial, new StreamError(`connection to ${dial.to} refused`))
    this.dials.delete(dial)
    const [mine, theirs] = connectPair(this.fabric, this, listener)
    this.conns.add(mine)
    this.counters.streamsOut++
    this.fabric.streamOpened()
    listener.accept(theirs)
    dial.resolve(mine)
  }

  private timeOutAtDeadline(dial: PendingDial): void {
    const clock = this.fabric.clock
    const err = new TimeoutError(`dialing ${dial.to} timed out after ${dial.timeoutMs} ms`)
    dial.timer = clock.setTimeout(() => this.settleDial(dial, err), Math.max(0, dial.deadlineMs - clock.now()))
  }

  private settleDial(dial: PendingDial, err: Error): void {
    this.dials.delete(dial)
    dial.reject(err)
  }
}
