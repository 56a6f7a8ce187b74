/**
 * The TCP side of membership: push-pull exchange of member tables (used for
 * join and for periodic repair), the fallback ping, and hand-off of
 * application streams to the delegate. Each exchange is one short-lived
 * connection: request frame, reply frame, close.
 */
import { StreamError, TimeoutError } from '../errors.js'
import type { Clock } from '../clock.js'
import type { StreamConn, Transport } from '../transport/transport.js'
import { decodeFrame, encodeFrame, DecodeError } from '../wire/codec.js'
import { MsgType, type PushPullMsg, type StreamMsg } from '../wire/messages.js'

/**
 * Resolves with the next frame on `conn`, decoded. Rejects with
 * `TimeoutError` after `timeoutMs`, `StreamError` if the connection closes
 * first, `DecodeError` on a malformed frame.
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
    conn.onClose((err) => settle(new StreamError(`stream to ${conn.remoteAddress} closed before a reply`, { cause: err })))
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

export { DecodeError }
