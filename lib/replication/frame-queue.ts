/**
 * Pull-style reading of a stream: frames queue up as they arrive and
 * `next()` takes them one at a time, with a timeout. Lets a session be
 * written as straight-line async code.
 */
import type { Clock } from '../clock.js'
import { StreamError, TimeoutError } from '../errors.js'
import type { StreamConn } from '../transport/transport.js'

export class FrameQueue {
  private readonly frames: Buffer[] = []
  private waiter: ((f: Buffer | Error) => void) | undefined
  private ended: Error | undefined

  constructor(
    private readonly conn: StreamConn,
    private readonly clock: Clock
  ) {
    conn.onFrame((f) => this.push(f))
    conn.onClose((err) => {
      this.ended = new StreamError(`stream with ${conn.remoteAddress} closed`, { cause: err })
      this.push(this.ended)
    })
  }

  /** The next frame; rejects on close or after `timeoutMs` of silence. */
  next(timeoutMs: number): Promise<Buffer> {
    const f = this.frames.shift()
    if (f !== undefined) return Promise.resolve(f)
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
    if (this.waiter !== undefined) this.waiter(x)
    else if (!(x instanceof Error)) this.frames.push(x)
  }
}
