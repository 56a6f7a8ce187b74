/**
 * The network seam. A `Transport` carries best-effort packets (UDP datagrams:
 * may be lost, duplicated, reordered) and reliable, ordered, message-framed
 * streams (TCP) on one address. Membership and replication speak only to this
 * interface; `UdpTcpTransport` implements it with `node:dgram` + `node:net`,
 * `MemoryNetwork` implements it in memory for deterministic tests.
 *
 * Addresses are "host:port" strings ("[::1]:7946" for IPv6).
 */

/** Called for every datagram that arrives. `from` is the sender's "host:port". */
export type PacketHandler = (data: Buffer, from: string) => void

/** Called for every stream a peer opens to us. */
export type StreamHandler = (conn: StreamConn) => void

/**
 * A reliable, ordered, message-framed connection. Frames are delivered whole
 * and in order (length-prefixed on TCP). A frame larger than the transport's
 * `maxFrameBytes` closes the connection with an error (counted, never thrown
 * to the caller of `onFrame`).
 */
export interface StreamConn {
  /** The peer's "host:port" (for an accepted TCP stream: its ephemeral port). */
  readonly remoteAddress: string
  /** True once closed by either side; further sends are ignored. */
  readonly closed: boolean
  /**
   * Queues one frame. Returns false when the connection is closed, or when the
   * outgoing buffer is above its high-water mark (the frame is still queued;
   * wait for {@link StreamConn.drain} before sending more).
   */
  send(frame: Uint8Array): boolean
  /** Resolves when the outgoing buffer has drained (at once if it is empty or closed). */
  drain(): Promise<void>
  /** Sets the handler for arriving frames (one handler; a later call replaces it). */
  onFrame(handler: (frame: Buffer) => void): void
  /** Sets the handler called once when the connection closes; `err` when it failed. */
  onClose(handler: (err?: Error) => void): void
  /** Closes after flushing queued frames. Idempotent. */
  close(): void
  /** Closes at once, dropping queued frames. Idempotent. */
  destroy(err?: Error): void
}

export interface TransportStats {
  packetsIn: number
  packetsOut: number
  /** Datagram bytes plus stream frame payload bytes (length prefixes excluded). */
  bytesIn: number
  /** Datagram bytes plus stream frame payload bytes (length prefixes excluded). */
  bytesOut: number
  /** Datagram bytes received. */
  packetBytesIn: number
  /** Datagram bytes sent. */
  packetBytesOut: number
  /**
   * Stream bytes received, as the connection carried them: frame payloads
   * plus their 4-byte length prefixes (TCP/IP headers excluded).
   */
  streamBytesIn: number
  /** Stream bytes sent: frame payloads plus their 4-byte length prefixes. */
  streamBytesOut: number
  streamsIn: number
  streamsOut: number
  /** Frames or datagrams refused by the transport itself, by reason. */
  dropped: Record<string, number>
}

export interface Transport {
  /** The bound "host:port" (after binding port 0: the real port). */
  readonly address: string
  /**
   * Sends one datagram, best effort. Never throws for network errors (they
   * are counted). The transport may read `data` after returning: do not
   * modify it (the same buffer may be sent to many addresses).
   */
  sendPacket(to: string, data: Uint8Array): void
  /** Sets the datagram handler (one; a later call replaces it). */
  onPacket(handler: PacketHandler): void
  /** Sets the handler for streams peers open to us (one; a later call replaces it). */
  onStream(handler: StreamHandler): void
  /**
   * Opens a stream to `to`. Rejects with `TimeoutError` after `timeoutMs`, or
   * `StreamError` when refused/unreachable, or `ClosedError` after close().
   */
  dialStream(to: string, timeoutMs: number): Promise<StreamConn>
  /** Counters since creation. */
  stats(): TransportStats
  /** Closes the socket(s) and every open stream. Idempotent. */
  close(): Promise<void>
}

/** Splits "host:port" / "[v6]:port"; throws TypeError on a malformed address. */
export function parseAddress(address: string): { host: string; port: number } {
  if (typeof address !== 'string') throw new TypeError(`address must be a "host:port" string, got ${typeof address}`)
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(address) ?? /^([^:\[\]]+):(\d{1,5})$/.exec(address)
  if (m === null) throw new TypeError(`address "${address}" is not "host:port"`)
  const port = Number(m[2])
  if (port > 65535) throw new RangeError(`address "${address}": port ${port} out of range 0..65535`)
  return { host: m[1]!, port }
}

/**
 * Joins host and port, bracketing IPv6 hosts. An IPv4-mapped IPv6 address
 * (`::ffff:10.0.0.1`, what a dual-stack socket reports for an IPv4 peer)
 * is written as the IPv4 address, so one peer has one address whichever
 * socket saw it.
 */
export function formatAddress(host: string, port: number): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(host)
  if (mapped !== null) return `${mapped[1]}:${port}`
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
}
