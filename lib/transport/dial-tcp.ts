/**
 * Dialing a TCP stream for `UdpTcpTransport`: one `net.connect` with a
 * timeout, settled exactly once by the first of connect, error or timeout.
 *
 * The timeout is the socket's own idle timer (real time, not the injected
 * clock: it guards a kernel operation). While connecting, the socket sits in
 * the transport's `dialing` set, so close() can destroy it; a connect that
 * completes after close() began is destroyed and rejects with `ClosedError`.
 * Errors name the address: `TimeoutError`, `StreamError` (refused, or the
 * errno code), or the `BcacheError` close() destroyed the socket with.
 */
import * as net from 'node:net'
import { BcacheError, ClosedError, StreamError, TimeoutError } from '../errors.js'
import type { StreamConn } from './transport.js'

/** What a dial needs from its transport. */
export interface DialHost {
  /** Sockets still connecting; close() destroys them. */
  readonly dialing: Set<net.Socket>
  isClosed(): boolean
  /** Takes a connected socket over as the stream to `remoteAddress` (called synchronously on connect). */
  adopt(socket: net.Socket, remoteAddress: string): StreamConn
}

/** Connects to `target` (the parsed `to`) within `timeoutMs`; see the file comment. */
export function dialTcp(host: DialHost, to: string, target: { host: string; port: number }, timeoutMs: number): Promise<StreamConn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: target.host, port: target.port, noDelay: true })
    host.dialing.add(socket)
    socket.setTimeout(Math.max(1, timeoutMs))
    const settle = (err: Error | undefined): void => {
      host.dialing.delete(socket)
      socket.off('connect', onConnect).off('error', onError).off('timeout', onTimeout)
      socket.setTimeout(0)
      if (err === undefined && !host.isClosed()) return resolve(host.adopt(socket, to))
      socket.destroy()
      reject(err ?? new ClosedError('transport'))
    }
    const onConnect = (): void => settle(undefined)
    const onTimeout = (): void => settle(new TimeoutError(`dialing ${to} timed out after ${timeoutMs} ms`))
    const onError = (err: NodeJS.ErrnoException): void => {
      if (err instanceof BcacheError) return settle(err)
      const what = err.code === 'ECONNREFUSED' ? 'refused' : `failed (${err.code ?? err.message})`
      settle(new StreamError(`connection to ${to} ${what}`, { cause: err }))
    }
    socket.on('connect', onConnect).on('error', onError).on('timeout', onTimeout)
  })
}
