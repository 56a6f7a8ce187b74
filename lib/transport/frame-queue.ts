/**
 * Pull-style reading of a stream: frames queue up as they arrive and
 * `next()` takes them one at a time, with a timeout. Lets a session be
 * written as straight-line async code.
 *
 * The queue is bounded by bytes: a peer that sends faster than the session
 * reads (or sends while we are still writing to it and it does not read)
 * cannot make us buffer without bound. Past `maxBytes` queued, the stream is
 * destroyed and `onOverflow` is called (the owner counts it). One frame is
 * always admitted into an empty queue, whatever its size (the transport's
 * `maxFrameBytes` bounds that).
 */
import type { Clock } from '../clock.js'
import { StreamError, TimeoutError } from '../errors.js'
import type { StreamConn } from '../transport/transport.js'

/** Default bound of bytes queued per stream: 8 MiB (32 anti-entropy batches). */
export const DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024

/** Bounds of a {@link FrameQueue}. */
export interface FrameQueueLimits {
  /** Most bytes of frames waiting to be read. @default {@link DEFAULT_MAX_QUEUED_BYTES} */
  maxBytes?: number
  /** Called once when the bound is passed (the stream is destroyed). */
  onOverflow?: () => void
}

export class FrameQueue {
  private readonly frames: Buffer[] = []
  /** Total length of `frames`. */
  private queuedBytes = 0
  private readonly maxBytes: number
  private waiter: ((f: Buffer | Error) => void) | undefined
  private ended: Error | undefined

  constructor(
    private readonly conn: StreamConn,
    private readonly clock: Clock,
    private readonly limits: FrameQueueLimits = {}
  ) {
    this.maxBytes = limits.maxBytes ?? DEFAULT_MAX_QUEUED_BYTES
    conn.onFrame((f) => this.push(f))
    conn.onClose((err) => {
      this.ended ??= new StreamError(`stream with ${conn.remoteAddress} closed`, { cause: err })
      this.push(this.ended)
    })
  }

  /** The next frame; rejects on close or after `timeoutMs` of silence. */
  next(timeoutMs: number): Promise<Buffer> {
    const f = this.frames.shift()
    if (f !== undefined) {
      this.queuedBytes -= f.length
      return Promise.resolve(f)
    }
    if (this.ended !== undefined) return Promise.reject(this.ended)
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.waiter = undefined
        reject(new TimeoutError(`no frame from ${this.conn.remoteAddress} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.waiter = (x) => {
        this.clock.clearTimeout(timer)
        this.waiter = undefined
        if (x instanceof Error) reject(x)
        else resolve(x)
      }
    })
  }

  private push(x: Buffer | Error): void {
    if (this.waiter !== undefined) return this.waiter(x)
    if (x instanceof Error || this.ended !== undefined) return
    if (this.frames.length > 0 && this.queuedBytes + x.length > this.maxBytes) {
      this.ended = new StreamError(`stream with ${this.conn.remoteAddress}: more than ${this.maxBytes} bytes queued unread`)
      this.frames.length = 0
      this.queuedBytes = 0
      this.limits.onOverflow?.()
      this.conn.destroy(this.ended)
      return
    }
    this.frames.push(x)
    this.queuedBytes += x.length
  }
}
