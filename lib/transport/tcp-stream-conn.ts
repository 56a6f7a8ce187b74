/**
 * A {@link StreamConn} over a connected `net.Socket`.
 *
 * Outgoing: each frame is written as one buffer (header + payload copied
 * together), so small frames cost one write and the caller may reuse its
 * buffer as soon as `send` returns. `send` reports backpressure through
 * `socket.writableNeedDrain`.
 *
 * Incoming: socket chunks go into a {@link FrameDecoder}; whole frames are
 * handed to the frame handler in order. Until a handler is set, the socket is
 * paused and bytes wait in the decoder, so nothing is lost and memory stays
 * bounded (TCP flow control pushes back on the peer). A handler that throws,
 * or a header above `maxFrameBytes`, destroys the connection and is counted.
 *
 * Lifecycle: `closed` turns true on `close()`, `destroy()`, or the peer's
 * FIN. The close handler runs exactly once, after the socket's 'close'
 * event, with the first error seen (if any). Sockets run with
 * `allowHalfOpen: false`: when the peer ends, Node ends our side too.
 */
import type { Socket } from 'node:net'
import { BcacheError, StreamError } from '../errors.js'
import type { Logger } from '../logger.js'
import { encodeFramed, FrameDecoder, FrameTooLargeError } from './framing.js'
import type { StreamConn } from './transport.js'
import { callCloseHandler, type TransportCounters } from './transport-counters.js'

/** After `close()`, a peer that keeps its side open this long is cut off. */
const LINGER_MS = 30_000

/** What a connection needs from the transport that owns it. */
export interface TcpConnOwner {
  readonly counters: TransportCounters
  readonly logger: Logger
  readonly maxFrameBytes: number
  /** Called once when the socket has closed. */
  forget(conn: TcpStreamConn): void
}

/** A framed connection over a TCP socket (dialed or accepted). */
export class TcpStreamConn implements StreamConn {
  readonly remoteAddress: string
  private readonly socket: Socket
  private readonly owner: TcpConnOwner
  private readonly decoder: FrameDecoder
  private frameHandler: ((frame: Buffer) => void) | undefined
  private closeHandler: ((err?: Error) => void) | undefined
  // true once we stop sending: close(), destroy(), or the peer's FIN
  private ending = false
  // true once the socket emitted 'close'; no more frames after that
  private finished = false
  private closeNotified = false
  // the first failure; reported to the close handler
  private error: Error | undefined
  private drainWait: Promise<void> | undefined
  private readonly closedPromise: Promise<void>

  constructor(socket: Socket, remoteAddress: string, owner: TcpConnOwner) {
    this.socket = socket
    this.remoteAddress = remoteAddress
    this.owner = owner
    this.decoder = new FrameDecoder(owner.maxFrameBytes)
    this.closedPromise = new Promise((resolve) => socket.once('close', () => resolve()))
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('end', () => {
      this.ending = true
    })
    socket.on('error', (err: Error) => this.onError(err))
    socket.on('close', () => this.onSocketClose())
  }

  get closed(): boolean {
    return this.ending || this.finished
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) return false
    const framed = encodeFramed(frame)
    this.owner.counters.bytesOut += frame.length
    this.owner.counters.streamBytesOut += framed.length
    this.socket.write(framed)
    return !this.socket.writableNeedDrain
  }

  drain(): Promise<void> {
    if (this.finished || !this.socket.writableNeedDrain) return Promise.resolve()
    this.drainWait ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        this.drainWait = undefined
        resolve()
      }
      this.socket.on('drain', done)
      this.socket.on('close', done)
    })
    return this.drainWait
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.frameHandler = handler
    if (this.finished) return
    if (this.decoder.bufferedBytes > 0) queueMicrotask(() => this.pump())
    if (this.socket.isPaused()) this.socket.resume()
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler
    if (this.finished && !this.closeNotified) queueMicrotask(() => this.notifyClose())
  }

  close(): void {
    if (this.ending || this.finished) return
    this.ending = true
    this.socket.end()
    this.socket.setTimeout(LINGER_MS, () => this.socket.destroy())
  }

  destroy(err?: Error): void {
    if (this.finished) return
    this.ending = true
    this.error ??= err
    this.socket.destroy()
  }

  /** Resolves once the socket has fully closed. */
  whenClosed(): Promise<void> {
    return this.closedPromise
  }

  private onData(chunk: Buffer): void {
    this.owner.counters.streamBytesIn += chunk.length
    this.decoder.push(chunk)
    this.pump()
  }

  /** Hands out every whole frame while a handler is set and the socket lives. */
  private pump(): void {
    while (!this.finished && !this.socket.destroyed) {
      const handler = this.frameHandler
      if (handler === undefined) {
        this.socket.pause()
        return
      }
      let frame: Buffer | undefined
      try {
        frame = this.decoder.next()
      } catch (err) {
        this.owner.counters.drop('frame-too-large')
        this.owner.logger.debug(`transport: stream from ${this.remoteAddress}: ${(err as FrameTooLargeError).message}`)
        this.destroy(err as Error)
        return
      }
      if (frame === undefined) return
      this.owner.counters.bytesIn += frame.length
      try {
        handler(frame)
      } catch (err) {
        this.owner.counters.drop('frame-handler-error')
        this.owner.logger.debug(`transport: frame handler for ${this.remoteAddress} threw`, err)
        this.destroy(new StreamError(`frame handler for ${this.remoteAddress} threw`, { cause: err }))
        return
      }
    }
  }

  private onError(err: Error): void {
    if (this.error !== undefined) return
    this.error =
      err instanceof BcacheError ? err : new StreamError(`stream with ${this.remoteAddress} failed: ${err.message}`, { cause: err })
  }

  private onSocketClose(): void {
    this.ending = true
    this.finished = true
    if (this.error === undefined && this.frameHandler !== undefined && this.decoder.bufferedBytes > 0) {
      this.error = new StreamError(`stream with ${this.remoteAddress} closed in the middle of a frame`)
    }
    this.owner.forget(this)
    this.notifyClose()
  }

  private notifyClose(): void {
    const handler = this.closeHandler
    if (handler === undefined || this.closeNotified) return
    this.closeNotified = true
    callCloseHandler(handler, this.error, this.owner.logger, this.remoteAddress)
  }
}
