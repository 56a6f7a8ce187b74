/**
 * Binds a TCP listener and a UDP socket on one port, for `UdpTcpTransport`.
 *
 * TCP listens first; UDP then binds the same port. With port 0 the kernel
 * picks a free TCP port that may still be taken for UDP, so on EADDRINUSE
 * both are closed and the pair is retried (up to {@link MAX_BIND_ATTEMPTS}
 * times) before giving up with `BindError`. Any other error gives up at once.
 * Both sockets bind `exclusive`, so two nodes never share a port.
 */
import * as dgram from 'node:dgram'
import type { EventEmitter } from 'node:events'
import * as net from 'node:net'
import type { AddressInfo } from 'node:net'
import { BindError } from '../errors.js'
import { formatAddress } from './transport.js'

/** Requested UDP socket buffer size. */
const UDP_BUFFER_BYTES = 4 * 1024 * 1024

/** Tries at binding UDP and TCP to one kernel-chosen port (port 0). */
export const MAX_BIND_ATTEMPTS = 10

/** The bound pair, and the port they share. */
export interface BoundSockets {
  udp: dgram.Socket
  server: net.Server
  port: number
}

/** Binds a TCP listener and a UDP socket on the same port; see the file comment. */
export async function bindSockets(host: string, port: number): Promise<BoundSockets> {
  const attempts = port === 0 ? MAX_BIND_ATTEMPTS : 1
  let lastErr: unknown
  for (let i = 0; i < attempts; i++) {
    try {
      return await bindPair(host, port)
    } catch (err) {
      lastErr = err
      if (!isAddrInUse(err)) break
    }
  }
  const reason = lastErr instanceof Error ? lastErr.message : String(lastErr)
  throw new BindError(`cannot bind ${formatAddress(host, port)}: ${reason}`, { cause: lastErr })
}

/** One try: TCP on `port`, then UDP on the port TCP got; on a UDP failure both are closed and the error thrown. */
async function bindPair(host: string, port: number): Promise<BoundSockets> {
  const server = net.createServer({ noDelay: true, allowHalfOpen: false })
  await listen(server, host, port)
  const bound = (server.address() as AddressInfo).port
  // 4 MiB socket buffers (the kernel caps them at net.core.rmem_max /
  // wmem_max): bursts of datagrams are then queued rather than dropped.
  const udp = dgram.createSocket({
    type: net.isIPv6(host) ? 'udp6' : 'udp4', reuseAddr: false,
    recvBufferSize: UDP_BUFFER_BYTES, sendBufferSize: UDP_BUFFER_BYTES
  })
  try {
    await bindUdp(udp, host, bound)
    return { udp, server, port: bound }
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    try {
      udp.close()
    } catch {
      // a socket whose bind failed may already be closed
    }
    throw err
  }
}

function listen(server: net.Server, host: string, port: number): Promise<void> {
  return whenReady(server, (ready) => server.listen({ host, port, exclusive: true }, ready))
}

function bindUdp(udp: dgram.Socket, host: string, port: number): Promise<void> {
  return whenReady(udp, (ready) => udp.bind({ address: host, port, exclusive: true }, ready))
}

/** Runs `start`, which calls `ready` once bound; rejects on an 'error' from `socket` before that. */
function whenReady(socket: EventEmitter, start: (ready: () => void) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    socket.once('error', onError)
    start(() => {
      socket.off('error', onError)
      resolve()
    })
  })
}

function isAddrInUse(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE'
}
