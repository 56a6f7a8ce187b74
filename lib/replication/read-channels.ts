/**
 * Persistent read streams toward owners (partition mode's `fetch`), one per
 * peer, opened on the first read and kept: a read costs one round trip on an
 * open TCP connection, not a dial.
 *
 * Requests on one stream are answered in order (the server handles each at
 * once, in arrival order, and TCP keeps the order), so replies are matched
 * to requests first in, first out. At most {@link MAX_IN_FLIGHT} reads wait
 * on one stream; one beyond waits for a slot. A reply that does not come
 * within the timeout, a bad frame, or the stream closing fails every read
 * waiting on it and drops the stream; the next read opens a new one.
 */
import type { Clock, Timer } from '../clock.js'
import type { StreamConn } from '../transport/transport.js'

/** Reads waiting for their replies on one stream, at most. */
export const MAX_IN_FLIGHT = 64

interface Waiting {
  resolve: (frame: Buffer) => void
  reject: (err: Error) => void
}

interface Channel {
  conn: Promise<StreamConn>
  waiting: Waiting[]
  timer: Timer | undefined
  /** Reads queued for a slot (past {@link MAX_IN_FLIGHT}). */
  queued: Array<() => void>
  dead: boolean
}

export class ReadChannels {
  private readonly channels = new Map<string, Channel>()

  constructor(
    private readonly open: (addr: string, firstRequest: Buffer) => Promise<StreamConn>,
    private readonly clock: Clock,
    private readonly timeoutMs: number
  ) {}

  /** Sends `request` to `addr` and resolves with its reply frame. */
  async request(addr: string, request: Buffer): Promise<Buffer> {
    let ch = this.channels.get(addr)
    if (ch !== undefined && ch.waiting.length >= MAX_IN_FLIGHT) {
      const slot = ch
      await new Promise<void>((resolve) => slot.queued.push(resolve))
      ch = this.channels.get(addr)
    }
    if (ch === undefined || ch.dead) return this.openWith(addr, request)
    const reply = this.wait(addr, ch)
    reply.catch(() => {}) // it may fail while we wait for the dial; the caller sees that through the return
    const conn = await ch.conn // a failed dial throws its own error here
    conn.send(request)
    return reply
  }

  /** Closes the stream toward `addr` (its member is gone), failing its reads. */
  forget(addr: string): void {
    const ch = this.channels.get(addr)
    if (ch !== undefined) this.fail(addr, ch, new Error(`read stream to ${addr} closed`))
  }

  closeAll(): void {
    for (const addr of [...this.channels.keys()]) this.forget(addr)
  }

  private openWith(addr: string, request: Buffer): Promise<Buffer> {
    const ch: Channel = { conn: this.open(addr, request), waiting: [], timer: undefined, queued: [], dead: false }
    this.channels.set(addr, ch)
    const reply = this.wait(addr, ch)
    ch.conn.then((conn) => {
      if (ch.dead) return conn.destroy()
      conn.onFrame((frame) => this.answer(addr, ch, frame))
      conn.onClose((err) => this.fail(addr, ch, err ?? new Error(`read stream to ${addr} closed`)))
    }, (err: Error) => this.fail(addr, ch, err))
    return reply
  }

  private wait(addr: string, ch: Channel): Promise<Buffer> {
    return new Promise<Buffer>((resolve, reject) => {
      ch.waiting.push({ resolve, reject })
      if (ch.timer === undefined) this.arm(addr, ch) // a later read does not push the oldest one's deadline back
    })
  }

  /** One timer per stream: the oldest read waits at most `timeoutMs` for its reply. */
  private arm(addr: string, ch: Channel): void {
    if (ch.timer !== undefined) this.clock.clearTimeout(ch.timer)
    ch.timer = ch.waiting.length === 0 ? undefined : this.clock.setTimeout(() => this.fail(addr, ch, new Error(`no reply from ${addr} within ${this.timeoutMs} ms`)), this.timeoutMs)
  }

  private answer(addr: string, ch: Channel, frame: Buffer): void {
    const w = ch.waiting.shift()
    if (w === undefined) return this.fail(addr, ch, new Error(`unrequested reply from ${addr}`))
    this.arm(addr, ch)
    w.resolve(frame)
    ch.queued.shift()?.()
  }

  private fail(addr: string, ch: Channel, err: Error): void {
    if (ch.dead) return
    ch.dead = true
    if (this.channels.get(addr) === ch) this.channels.delete(addr)
    if (ch.timer !== undefined) this.clock.clearTimeout(ch.timer)
    for (const w of ch.waiting.splice(0)) w.reject(err)
    for (const go of ch.queued.splice(0)) go()
    ch.conn.then((conn) => conn.destroy(), () => {})
  }
}
