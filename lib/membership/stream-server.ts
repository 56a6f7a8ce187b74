/**
 * The accepting side of membership's TCP streams. Every accepted stream
 * starts with one frame that says what it is:
 *
 * - a `Ping` (the prober's TCP fallback): answered with an ack when it names
 *   us as target (else counted `wrong-node`), then closed;
 * - a `PushPull`: answered by {@link PushPull.answer}, which replies, closes
 *   and merges;
 * - a `UserStream`: handed, with its first payload, to the handler a layer
 *   registered for its tag (`Cluster.handleStreams`); an unknown tag is
 *   counted `stream-tag` and the stream destroyed.
 *
 * The first frame is read through a {@link HandOffConn}, so frames (and a
 * close) that arrive before the tag handler sets its own handlers wait for it
 * instead of being lost. A first frame that does not come within
 * `tcpTimeoutMs`, does not decode, or is of another type ends the stream,
 * counted by reason; a handler that throws is counted `handler-error`.
 * Nothing here throws back into the transport.
 */
import type { Clock } from '../clock.js'
import type { Logger } from '../logger.js'
import type { StreamConn } from '../transport/transport.js'
import { decodeFrame, DecodeError, encodeFrame } from '../wire/codec.js'
import { MsgType, type PingMsg, type StreamMsg, type UserStreamMsg } from '../wire/messages.js'
import type { StreamTagHandler } from './cluster.js'
import { HandOffConn } from './hand-off.js'
import type { PushPull } from './push-pull.js'

/** What {@link StreamServer} needs from the engine. */
export interface StreamServerComponents {
  clock: Clock
  logger: Logger
  pushPull: PushPull
  /** Counts a refused or failed stream by reason. */
  drop: (reason: string) => void
  isClosed: () => boolean
}

/** Serves the streams the transport accepts (see the file comment). */
export class StreamServer {
  /** Application stream handlers by tag (see `Cluster.handleStreams`). */
  private readonly handlers = new Map<number, StreamTagHandler>()

  constructor(
    private readonly c: StreamServerComponents,
    private readonly config: { nodeId: string; tcpTimeoutMs: number }
  ) {}

  /** Registers the handler of application streams tagged `tag` (one per tag; a later one replaces it). */
  handle(tag: number, handler: StreamTagHandler): void {
    this.handlers.set(tag, handler)
  }

  /** Takes an accepted stream: reads its first frame, then serves it. */
  accept(conn: StreamConn): void {
    if (this.c.isClosed()) {
      conn.destroy()
      return
    }
    // Frames (and a close) that arrive before the tag handler takes over wait for it (hand-off.ts).
    const handOff = new HandOffConn(conn)
    handOff.first(this.c.clock, this.config.tcpTimeoutMs).then(decodeFrame).then(
      (msg) => this.serve(handOff, msg),
      (err) => {
        this.c.drop(err instanceof DecodeError ? `stream-${err.reason}` : 'stream-error')
        this.c.logger.debug(`membership: stream from ${conn.remoteAddress} failed: ${String(err)}`)
        conn.destroy()
      }
    )
  }

  private serve(conn: StreamConn, msg: StreamMsg): void {
    try {
      switch (msg.type) {
        case MsgType.Ping: return this.answerPing(conn, msg)
        case MsgType.PushPull: return this.c.pushPull.answer(conn, msg)
        case MsgType.UserStream: return this.handOver(conn, msg)
      }
      this.c.drop('stream-type')
      conn.destroy()
    } catch (err) {
      this.c.drop('handler-error')
      this.c.logger.error(`membership: serving stream from ${conn.remoteAddress} failed: ${String(err)}`)
      conn.destroy()
    }
  }

  private answerPing(conn: StreamConn, msg: PingMsg): void {
    if (msg.targetId === this.config.nodeId) conn.send(encodeFrame({ type: MsgType.Ack, seq: msg.seq }))
    else this.c.drop('wrong-node')
    conn.close()
  }

  private handOver(conn: StreamConn, msg: UserStreamMsg): void {
    const handler = this.handlers.get(msg.tag)
    if (handler === undefined) {
      this.c.drop('stream-tag')
      conn.destroy()
      return
    }
    handler(conn, msg.payload)
  }
}
