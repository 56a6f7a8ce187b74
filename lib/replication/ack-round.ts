/**
 * One acknowledged write waiting for its acks (acked-writes.ts opens it):
 * the writer's side of the `Ack` exchange with every live peer at once.
 *
 * Counting: this node holds the write already (it was applied locally
 * before the round starts), so `acked` starts at 1. Each peer answers once:
 * a reply frame saying it holds the write (or newer) adds an ack; a reply
 * saying it does not, an undecodable reply, a stream that closes before a
 * reply, or a dial that fails takes that peer out of the running. The round
 * settles as soon as
 *
 *   acked >= needed                 → resolves
 *   acked + unanswered < needed     → rejects, AckError 'unreachable'
 *   the timer fires                 → rejects, AckError 'timeout'
 *   the node closes                 → rejects, AckError 'closed'
 *
 * whichever comes first. Settling clears the timer and destroys every
 * stream still open; a dial that completes after that is destroyed at once,
 * so a settled round holds nothing.
 */
import type { Clock, Timer } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import { AckError, ClosedError, type AckFailure } from '../errors.js'
import type { StreamConn } from '../transport/transport.js'
import { DecodeError } from '../wire/decode-error.js'
import { safeUnpack } from '../wire/safe-unpack.js'

/** How a round reaches one peer: opens its `Ack` stream carrying the delta. */
export type OpenAckStream = (address: string) => Promise<StreamConn>

export class AckRound {
  /** Nodes known to hold the write, this one included (when it counts). */
  private acked: number
  /** Peers asked that have not answered yet. */
  private unanswered: number
  /** Streams open and not answered yet; emptied when the round settles. */
  private readonly conns = new Set<StreamConn>()
  private readonly timer: Timer
  private settled = false
  readonly done: Promise<void>
  private resolve!: () => void
  private reject!: (err: Error) => void

  constructor(
    private readonly c: { clock: Clock; drops: DropCounts; onSettled: (round: AckRound) => void },
    private readonly needed: number,
    peers: readonly string[],
    open: OpenAckStream,
    timeoutMs: number,
    /** Whether this node counts as one holder (partition mode: only when it owns the key). */
    selfHolds = true
  ) {
    this.acked = selfHolds ? 1 : 0
    this.unanswered = peers.length
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    this.timer = c.clock.setTimeout(() => this.fail('timeout', `no ${needed} acks within ${timeoutMs} ms`), timeoutMs)
    for (const addr of peers) this.ask(addr, open)
  }

  /** Rejects the round because this node closes. */
  close(): void {
    this.fail('closed', 'node closed before the write was acknowledged', new ClosedError('cache'))
  }

  private ask(addr: string, open: OpenAckStream): void {
    open(addr).then((conn) => {
      if (this.settled) return conn.destroy()
      this.conns.add(conn)
      conn.onFrame((frame) => {
        this.answer(conn, decodeReply(frame, this.c.drops))
        conn.close()
      })
      conn.onClose(() => this.answer(conn, false))
    }, () => this.answer(undefined, false))
  }

  /** One peer's answer (`conn` undefined: its dial failed). A stream answers once. */
  private answer(conn: StreamConn | undefined, held: boolean): void {
    if (this.settled) return
    if (conn !== undefined && !this.conns.delete(conn)) return
    this.unanswered--
    if (held) this.acked++
    if (this.acked >= this.needed) this.settle()
    else if (this.acked + this.unanswered < this.needed) this.fail('unreachable', 'too many peers refused or failed to answer')
  }

  private fail(reason: AckFailure, message: string, cause?: Error): void {
    if (this.settled) return
    const err = new AckError(reason, this.acked, this.needed, message, cause === undefined ? undefined : { cause })
    this.settle(err)
  }

  private settle(err?: Error): void {
    if (this.settled) return
    this.settled = true
    this.c.clock.clearTimeout(this.timer)
    for (const conn of this.conns) conn.destroy()
    this.conns.clear()
    this.c.onSettled(this)
    if (err === undefined) this.resolve()
    else this.reject(err)
  }
}

/** Reply frames: `[held]`. Only append fields: the layout is part of the protocol. */
export function encodeReply(held: boolean): Buffer {
  return held ? HELD : NOT_HELD
}

const HELD = Buffer.from([0x91, 0xc3]) // msgpack [true]
const NOT_HELD = Buffer.from([0x91, 0xc2]) // msgpack [false]

/** Whether a reply says "held"; a malformed reply counts as a drop and as no ack. */
function decodeReply(frame: Buffer, drops: DropCounts): boolean {
  try {
    const raw = safeUnpack(frame, 0)
    if (!Array.isArray(raw) || typeof raw[0] !== 'boolean') throw new DecodeError('shape', 'ack reply')
    return raw[0]
  } catch (err) {
    drops.count(err instanceof DecodeError ? `ack-reply-${err.reason}` : 'ack-reply')
    return false
  }
}
