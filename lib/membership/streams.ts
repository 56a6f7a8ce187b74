/**
 * The TCP side of membership: push-pull exchange of member tables (used for
 * join and for periodic repair), the fallback ping, and hand-off of
 * application streams to the delegate. Each exchange is one short-lived
 * connection: request frame, reply frame, close.
 */
import { StreamError, TimeoutError } from '../errors.js'
import type { Clock } from '../clock.js'
import { StreamRefusedError } from '../transport/refusal.js'
import type { StreamConn, Transport } from '../transport/transport.js'
import { decodeFrame, encodeFrame, DecodeError } from '../wire/codec.js'
import { MsgType, type PushPullMsg, type StreamMsg } from '../wire/messages.js'
import type { Member } from './member.js'

/**
 * Resolves with the next frame on `conn`, decoded. Rejects with
 * `TimeoutError` after `timeoutMs`, `StreamError` if the connection closes
 * first (`StreamRefusedError` when the peer refused our frame and said why), `DecodeError` on a malformed frame.
 */
export function readFrame(conn: StreamConn, clock: Clock, timeoutMs: number): Promise<StreamMsg> {
  return new Promise((resolve, reject) => {
    let settled = false
    const timer = clock.setTimeout(() => settle(new TimeoutError(`no reply from ${conn.remoteAddress} within ${timeoutMs} ms`)), timeoutMs)
    const settle = (err: Error | undefined, msg?: StreamMsg): void => {
      if (settled) return
      settled = true
      clock.clearTimeout(timer)
      if (err !== undefined) reject(err)
      else resolve(msg!)
    }
    conn.onFrame((frame) => {
      try {
        settle(undefined, decodeFrame(frame))
      } catch (err) {
        settle(err as Error)
      }
    })
    conn.onClose((err) => settle(err instanceof StreamRefusedError ? err : new StreamError(`stream to ${conn.remoteAddress} closed before a reply`, { cause: err })))
  })
}

/** Dials `addr`, sends `request`, waits for one reply frame, closes. */
export async function exchange(transport: Transport, clock: Clock, addr: string, request: StreamMsg, timeoutMs: number): Promise<StreamMsg> {
  const conn = await transport.dialStream(addr, timeoutMs)
  try {
    const reply = readFrame(conn, clock, timeoutMs)
    conn.send(encodeFrame(request))
    return await reply
  } finally {
    conn.close()
  }
}

/** A push-pull request or reply. */
export function pushPullMsg(type: MsgType.PushPull | MsgType.PushPullReply, join: boolean, nodes: PushPullMsg['nodes'], userState: Uint8Array): PushPullMsg {
  const state = Buffer.isBuffer(userState) ? userState : Buffer.from(userState.buffer, userState.byteOffset, userState.byteLength)
  return { type, join, nodes, userState: state }
}

/**
 * The fallback ping: a ping over TCP from `self` to `m`. Resolves true when
 * the matching ack arrives within `timeoutMs`; never rejects.
 */
export async function tcpPing(
  transport: Transport, clock: Clock, self: { nodeId: string; addr: string }, m: Member, seq: number, timeoutMs: number
): Promise<boolean> {
  try {
    const reply = await exchange(transport, clock, m.addr, {
      type: MsgType.Ping, seq, targetId: m.nodeId, sourceId: self.nodeId, sourceAddr: self.addr
    }, timeoutMs)
    return reply.type === MsgType.Ack && reply.seq === seq
  } catch {
    return false
  }
}

export { DecodeError }
