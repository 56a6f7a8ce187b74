/**
 * A hand-driven {@link StreamConn} for unit specs: frames sent are recorded
 * (and, when the conn has a `peer`, delivered to it on a microtask);
 * `congested` makes `send()` return false, and `drain()` then waits until
 * the test calls `releaseDrain()`. Nothing here uses a timer or a socket.
 */
import type { StreamConn } from '../../lib/transport/transport.js'

export class FakeStream implements StreamConn {
  readonly sent: Buffer[] = []
  closed = false
  /** While true, `send()` returns false and `drain()` waits for {@link releaseDrain}. */
  congested = false
  peer: FakeStream | undefined
  closeCalls = 0
  destroyCalls = 0
  drainCalls = 0
  private frameHandler: ((frame: Buffer) => void) | undefined
  private closeHandler: ((err?: Error) => void) | undefined
  private waiting: Array<() => void> = []
  // frames delivered before a handler was set
  private pending: Buffer[] = []

  constructor(readonly remoteAddress = 'fake:1') {}

  send(frame: Uint8Array): boolean {
    if (this.closed) return false
    const b = Buffer.from(frame)
    this.sent.push(b)
    const peer = this.peer
    if (peer !== undefined) queueMicrotask(() => peer.deliver(b))
    return !this.congested
  }

  drain(): Promise<void> {
    this.drainCalls++
    if (!this.congested || this.closed) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /** Uncongests and resolves every pending `drain()`. */
  releaseDrain(): void {
    this.congested = false
    const w = this.waiting
    this.waiting = []
    for (const r of w) r()
  }

  onFrame(handler: (frame: Buffer) => void): void {
    this.frameHandler = handler
    const p = this.pending
    this.pending = []
    for (const f of p) this.deliver(f)
  }

  onClose(handler: (err?: Error) => void): void {
    this.closeHandler = handler
  }

  /** Hands `frame` to this conn's frame handler (as if the peer sent it). */
  deliver(frame: Buffer): void {
    if (this.closed) return
    if (this.frameHandler === undefined) this.pending.push(frame)
    else this.frameHandler(frame)
  }

  close(): void {
    this.closeCalls++
    this.finish()
  }

  destroy(err?: Error): void {
    this.destroyCalls++
    this.finish(err)
  }

  private finish(err?: Error): void {
    if (this.closed) return
    this.closed = true
    this.releaseDrain()
    this.closeHandler?.(err)
  }
}

/** Two fake conns wired to each other. */
export function fakePair(): [FakeStream, FakeStream] {
  const a = new FakeStream('fake:a')
  const b = new FakeStream('fake:b')
  a.peer = b
  b.peer = a
  return [a, b]
}
