/**
 * The real network: UDP datagrams (`node:dgram`) for packets and TCP
 * (`node:net`) for streams, both on the same port number, like memberlist's
 * `NetTransport`.
 *
 * Binding (`bind-sockets.ts`): TCP listens first; UDP then binds the same
 * port, retried on a clash when the kernel picks the port. Dialing
 * (`dial-tcp.ts`): a connect with a timeout that close() can cut short.
 *
 * Nothing here throws out of a socket callback: a datagram that cannot be
 * sent, a packet handler that throws, an oversize frame, a stream handler
 * that throws are all counted in `stats().dropped` and logged at debug level.
 *
 * This is the one module allowed to touch real time: dial timeouts use the
 * socket's own (unref'd) idle timer rather than the injected clock, because
 * they guard a kernel operation, not protocol logic.
 */
import type * as dgram from 'node:dgram'
import { lookup } from 'node:dns/promises'
import * as net from 'node:net'
import { BindError, ClosedError, StreamError } from '../errors.js'
import { silentLogger, type Logger } from '../logger.js'
import { bindSockets } from './bind-sockets.js'
import { dialTcp, type DialHost } from './dial-tcp.js'
import { DEFAULT_MAX_FRAME_BYTES } from './framing.js'
import { TcpStreamConn, type TcpConnOwner } from './tcp-stream-conn.js'
import { deliverStream, TransportCounters } from './transport-counters.js'
import {
  formatAddress,
  parseAddress,
  type PacketHandler,
  type StreamConn,
  type StreamHandler,
  type Transport,
  type TransportStats
} from './transport.js'

/** Longest close() waits for datagrams still being sent. */
const SEND_FLUSH_MS = 200

/** Settings for {@link UdpTcpTransport.bind}. */
export interface UdpTcpTransportInit {
  /** IP address (or host name, resolved once) to listen on, e.g. "0.0.0.0" or "127.0.0.1". */
  host: string
  /** Port for both UDP and TCP; 0 picks a free one (see `address`). */
  port: number
  /**
   * Largest stream frame payload accepted; a larger header destroys the
   * connection. Bounds the memory one peer can make us buffer.
   * @default {@link DEFAULT_MAX_FRAME_BYTES} (16 MiB)
   */
  maxFrameBytes?: number
  /**
   * Largest datagram sent; larger ones are dropped (counted as
   * `packet-too-large`) instead of being fragmented or failing in the kernel.
   * @default 65507 (the IPv4 UDP maximum)
   */
  maxPacketBytes?: number
  /** @default silentLogger */
  logger?: Logger
}

const DEFAULT_MAX_PACKET_BYTES = 65507

/** A {@link Transport} over real UDP and TCP sockets sharing one port. */
export class UdpTcpTransport implements Transport, TcpConnOwner {
  readonly address: string
  readonly counters = new TransportCounters()
  readonly logger: Logger
  readonly maxFrameBytes: number
  private readonly maxPacketBytes: number
  private readonly udp: dgram.Socket
  private readonly server: net.Server
  private packetHandler: PacketHandler | undefined
  private streamHandler: StreamHandler | undefined
  // every open stream, dialed or accepted: close() destroys them all
  private readonly conns = new Set<TcpStreamConn>()
  // sockets still connecting: close() destroys them (their dial rejects)
  private readonly dialing = new Set<net.Socket>()
  private closePromise: Promise<void> | undefined
  // datagrams handed to dgram whose send callback has not run yet (dgram looks
  // the address up asynchronously, so closing at once would cancel them: a
  // graceful leave sent just before close() would never leave the host)
  private pendingSends = 0
  private onSendsFlushed: (() => void) | undefined
  // what dialTcp uses of this transport; a dialed stream is counted and adopted on connect
  private readonly dialHost: DialHost = {
    dialing: this.dialing,
    isClosed: () => this.closePromise !== undefined,
    adopt: (socket, remoteAddress) => {
      this.counters.streamsOut++
      return this.adopt(socket, remoteAddress)
    }
  }

  /** Whether the UDP socket is IPv6: then IPv4 targets are sent to as `::ffff:a.b.c.d` (dual stack). */
  private readonly udp6: boolean

  private constructor(udp: dgram.Socket, server: net.Server, address: string, init: Required<Omit<UdpTcpTransportInit, 'host' | 'port'>>) {
    this.udp = udp
    this.server = server
    this.address = address
    this.logger = init.logger
    this.maxFrameBytes = init.maxFrameBytes
    this.maxPacketBytes = init.maxPacketBytes
    this.udp6 = net.isIPv6(parseAddress(address).host)
    udp.on('message', (msg, rinfo) => this.onMessage(msg, rinfo))
    udp.on('error', (err) => {
      this.counters.drop('socket-error')
      this.logger.debug(`transport: udp socket error on ${this.address}`, err)
    })
    server.on('connection', (socket) => this.onConnection(socket))
    server.on('error', (err) => this.logger.warn(`transport: tcp listener error on ${this.address}`, err))
  }

  /**
   * Binds UDP and TCP on `host:port`. Rejects with `BindError` when the port
   * is taken (or, for port 0, no common free port was found), `TypeError` /
   * `RangeError` on bad settings.
   */
  static async bind(init: UdpTcpTransportInit): Promise<UdpTcpTransport> {
    const settings = checkInit(init)
    let ip: string
    try {
      ip = net.isIP(init.host) !== 0 ? init.host : (await lookup(init.host)).address
    } catch (err) {
      throw new BindError(`cannot resolve host "${init.host}"`, { cause: err })
    }
    const { udp, server, port } = await bindSockets(ip, init.port)
    return new UdpTcpTransport(udp, server, formatAddress(ip, port), settings)
  }

  sendPacket(to: string, data: Uint8Array): void {
    if (this.closePromise !== undefined) return this.counters.drop('closed')
    if (data.length > this.maxPacketBytes) return this.counters.drop('packet-too-large')
    let host: string
    let port: number
    try {
      ;({ host, port } = parseAddress(to))
    } catch {
      return this.counters.drop('bad-address')
    }
    try {
      // Not copied: dgram sends after an async address lookup, so the caller
      // must not modify `data` afterwards (Transport.sendPacket's contract).
      // An IPv6 socket (e.g. bound to "::", dual stack) reaches IPv4 peers only at their mapped address.
      this.udp.send(data, port, this.udp6 && net.isIPv4(host) ? `::ffff:${host}` : host, this.onSent)
      this.pendingSends++
    } catch (err) {
      this.counters.drop('send-error')
      this.logger.debug(`transport: sending to ${to} failed`, err)
    }
  }

  onPacket(handler: PacketHandler): void {
    this.packetHandler = handler
  }

  onStream(handler: StreamHandler): void {
    this.streamHandler = handler
  }

  dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.closePromise !== undefined) return Promise.reject(new ClosedError('transport'))
    let target: { host: string; port: number }
    try {
      target = parseAddress(to)
    } catch (err) {
      return Promise.reject(new StreamError(`cannot dial "${to}": ${(err as Error).message}`, { cause: err }))
    }
    return dialTcp(this.dialHost, to, target, timeoutMs)
  }

  stats(): TransportStats {
    return this.counters.snapshot()
  }

  /** Closes both sockets and destroys every stream (their close handlers get `ClosedError`). Idempotent. */
  close(): Promise<void> {
    this.closePromise ??= this.shutdown()
    return this.closePromise
  }

  /** @internal called by a connection once its socket has closed */
  forget(conn: TcpStreamConn): void {
    this.conns.delete(conn)
  }

  private async shutdown(): Promise<void> {
    if (this.pendingSends > 0) {
      // Let queued datagrams go out first, bounded in time.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, SEND_FLUSH_MS)
        this.onSendsFlushed = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    const closing: Promise<void>[] = []
    for (const socket of this.dialing) {
      closing.push(new Promise((resolve) => socket.once('close', () => resolve())))
      socket.destroy(new ClosedError('transport'))
    }
    for (const conn of this.conns) {
      closing.push(conn.whenClosed())
      conn.destroy(new ClosedError('transport'))
    }
    closing.push(
      new Promise((resolve) => this.udp.close(() => resolve())),
      new Promise((resolve) => this.server.close(() => resolve()))
    )
    await Promise.all(closing)
  }

  private adopt(socket: net.Socket, remoteAddress: string): TcpStreamConn {
    const conn = new TcpStreamConn(socket, remoteAddress, this)
    this.conns.add(conn)
    return conn
  }

  private onConnection(socket: net.Socket): void {
    const { remoteAddress, remotePort } = socket
    if (this.closePromise !== undefined || remoteAddress === undefined || remotePort === undefined) {
      socket.destroy()
      return
    }
    socket.setNoDelay(true)
    this.counters.streamsIn++
    const conn = this.adopt(socket, formatAddress(remoteAddress, remotePort))
    deliverStream(conn, this.streamHandler, this.counters, this.logger)
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.closePromise !== undefined) return
    this.counters.packetsIn++
    this.counters.bytesIn += msg.length
    this.counters.packetBytesIn += msg.length
    const handler = this.packetHandler
    if (handler === undefined) return this.counters.drop('no-packet-handler')
    try {
      handler(msg, formatAddress(rinfo.address, rinfo.port))
    } catch (err) {
      this.counters.drop('handler-error')
      this.logger.debug(`transport: packet handler threw for a datagram from ${rinfo.address}:${rinfo.port}`, err)
    }
  }

  // one shared callback for every send: no closure per datagram
  private readonly onSent = (err: Error | null, bytes: number): void => {
    if (--this.pendingSends === 0) this.onSendsFlushed?.()
    if (err !== null) {
      this.counters.drop('send-error')
      this.logger.debug('transport: datagram send failed', err)
      return
    }
    this.counters.packetsOut++
    this.counters.bytesOut += bytes
    this.counters.packetBytesOut += bytes
  }
}

function checkInit(init: UdpTcpTransportInit): Required<Omit<UdpTcpTransportInit, 'host' | 'port'>> {
  if (typeof init?.host !== 'string' || init.host === '') throw new TypeError('host must be a non-empty string')
  if (!Number.isInteger(init.port) || init.port < 0 || init.port > 65535) {
    throw new RangeError(`port must be an integer in 0..65535, got ${init.port}`)
  }
  const maxFrameBytes = init.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES
  if (!Number.isInteger(maxFrameBytes) || maxFrameBytes < 0 || maxFrameBytes > 0xffff_ffff) {
    throw new RangeError(`maxFrameBytes must be an integer in 0..${0xffff_ffff}, got ${maxFrameBytes}`)
  }
  const maxPacketBytes = init.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES
  if (!Number.isInteger(maxPacketBytes) || maxPacketBytes < 1 || maxPacketBytes > 65535) {
    throw new RangeError(`maxPacketBytes must be an integer in 1..65535, got ${maxPacketBytes}`)
  }
  return { maxFrameBytes, maxPacketBytes, logger: init.logger ?? silentLogger }
}
