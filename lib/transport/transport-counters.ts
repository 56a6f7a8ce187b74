/**
 * Mutable counters behind {@link TransportStats}, shared by a transport and
 * its stream connections.
 */
import type { TransportStats } from './transport.js'

/** The live counters of one transport; `snapshot()` gives callers a copy. */
export class TransportCounters {
  packetsIn = 0
  packetsOut = 0
  /** Datagram bytes plus stream frame payload bytes (headers excluded). */
  bytesIn = 0
  /** Datagram bytes plus stream frame payload bytes (headers excluded). */
  bytesOut = 0
  streamsIn = 0
  streamsOut = 0
  readonly dropped: Record<string, number> = {}

  /** Counts one thing the transport refused or lost, under `reason`. */
  drop(reason: string): void {
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1
  }

  /** A copy that later counting does not change. */
  snapshot(): TransportStats {
    return {
      packetsIn: this.packetsIn,
      packetsOut: this.packetsOut,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      streamsIn: this.streamsIn,
      streamsOut: this.streamsOut,
      dropped: { ...this.dropped }
    }
  }
}
