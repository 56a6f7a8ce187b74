/**
 * Mutable counters behind {@link TransportStats}, shared by a transport and
 * its stream connections, and the stream hand-offs both transports make the
 * same way (an accepted stream to its handler, a close to its handler).
 */
import { DropCounts } from '../drop-counts.js'
import { StreamError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { StreamConn, StreamHandler, TransportStats } from './transport.js'

/**
 * Hands an accepted stream to the transport's handler: destroys it (counted)
 * when there is no handler or the handler throws. Shared by both transports.
 */
export function deliverStream(conn: StreamConn, handler: StreamHandler | undefined, counters: TransportCounters, logger: Logger): void {
  if (handler === undefined) {
    counters.drop('no-stream-handler')
    conn.destroy()
    return
  }
  try {
    handler(conn)
  } catch (err) {
    counters.drop('stream-handler-error')
    logger.debug(`transport: stream handler threw for ${conn.remoteAddress}`, err)
    conn.destroy(new StreamError('stream handler threw', { cause: err }))
  }
}

/**
 * Calls a stream's close handler with `error`; a handler that throws is
 * logged at debug level, never rethrown into the socket or the clock.
 * Shared by both stream kinds.
 */
export function callCloseHandler(handler: (err?: Error) => void, error: Error | undefined, logger: Logger, remoteAddress: string): void {
  try {
    handler(error)
  } catch (err) {
    logger.debug(`transport: close handler for ${remoteAddress} threw`, err)
  }
}

/** The live counters of one transport; `snapshot()` gives callers a copy. */
export class TransportCounters {
  packetsIn = 0
  packetsOut = 0
  /** Datagram bytes plus stream frame payload bytes (headers excluded). */
  bytesIn = 0
  /** Datagram bytes plus stream frame payload bytes (headers excluded). */
  bytesOut = 0
  /** Datagram bytes received (UDP payloads, envelope included). */
  packetBytesIn = 0
  /** Datagram bytes sent (UDP payloads, envelope included). */
  packetBytesOut = 0
  /** Stream bytes received: every byte read from the connection, length prefixes included. */
  streamBytesIn = 0
  /** Stream bytes sent: frame payloads plus their length prefixes. */
  streamBytesOut = 0
  streamsIn = 0
  streamsOut = 0
  /** What the transport refused or lost, by reason. */
  readonly drops = new DropCounts()

  /** Counts one thing the transport refused or lost, under `reason`. */
  drop(reason: string): void {
    this.drops.count(reason)
  }

  /** A copy that later counting does not change. */
  snapshot(): TransportStats {
    return {
      packetsIn: this.packetsIn,
      packetsOut: this.packetsOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      packetBytesIn: this.packetBytesIn,
      packetBytesOut: this.packetBytesOut,
      streamBytesIn: this.streamBytesIn,
      streamBytesOut: this.streamBytesOut,
      streamsIn: this.streamsIn,
      streamsOut: this.streamsOut,
      dropped: this.drops.snapshot()
    }
  }
}
