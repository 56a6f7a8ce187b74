/**
 * Hand-off of an accepted stream from membership (which reads its first
 * frame to learn what it is) to whoever serves it (a layer's tag handler).
 *
 * A `StreamConn` has one frame handler and one close handler. Between the
 * first frame and the moment the new owner sets its own handlers, more
 * frames — even the close — may already have arrived (a burst over a push
 * stream arrives as many frames at once; a peer may send and close at once).
 * With plain handler replacement those would go to the old, finished
 * handler and be lost. {@link HandOffConn} keeps them and delivers them, in
 * order, to the handlers the new owner sets.
 */
import { StreamError, TimeoutError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { StreamConn } from '../transport/transport.js'

export class HandOffConn implements StreamConn {
  private readonly waiting: Buffer[] = []
  private frameHandler: ((frame: Buffer) => void) | undefined
  private closeHandler: ((err?: Error) => void) | undefined
  /** Set once the stream closed before a close handler was there. */
  private ended: { err: Error | undefined } | undefined
  /** While the first frame is awaited: where it goes. */
  private firstWaiter: ((frame: Buffer | Error) => void) | undefined

  constructor(private readonly conn: StreamConn) {
    conn.onFrame((frame) => {
      if (this.firstWaiter !== undefined) return this.firstWaiter(frame)
      if (this.frameHandler !== undefined) return this.frameHandler(frame)
      this.waiting.push(frame)
    })
    conn.onClose((err) => {
      if (this.firstWaiter !== undefined) return this.firstWaiter(new StreamError(`stream from ${conn.remoteAddress} closed before its first frame`, { cause: err }))
      if (this.closeHandler !== undefined) return this.closeHandler(err)
      this.ended = { err }
    })
  }

  /** The first frame; rejects on close or after `timeoutMs`. Call once, before any handler is set. */
  first(clock: Clock, timeoutMs: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        this.firstWaiter = undefined
        reject(new TimeoutError(`no frame from ${this.conn.remoteAddress} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.firstWaiter = (x) => {
        clock.clearTimeout(timer)
        this.firstWaiter = undefined
        if (x instanceof Error) reject(x)
        else resolve(x)
      }
    })
  }

  get remoteAddress(): string {
    return this.conn.remoteAddress
  }

  get closed(): boolean {
    return this.conn.closed
  }

  send(frame: Uint8Array): boolean {
    return this.conn.send(frame)
  }

  drain(): Promise<void> {
    return this.conn.drain()
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.frameHandler = handler
    while (this.waiting.length > 0 && this.frameHandler === handler) handler(this.waiting.shift()!)
    this.deliverClose()
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler
    this.deliverClose()
  }

  /** A close that came before the handlers, once the frames before it were delivered. */
  private deliverClose(): void {
    const ended = this.ended
    if (ended === undefined || this.closeHandler === undefined || this.waiting.length > 0) return
    this.ended = undefined
    this.closeHandler(ended.err)
  }

  close(): void {
    this.conn.close()
  }

  destroy(err?: Error): void {
    this.conn.destroy(err)
  }
}
