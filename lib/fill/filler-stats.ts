/**
 * The counters a `Filler` keeps: one object, shared by reference with the
 * parts that count (`OwnerLeases`, `LeaseRequester`, `FillRunner`), each of
 * which sees only its own fields.
 */
import { Histogram, type HistogramSnapshot } from '../histogram.js'

/** Counters of a `Filler`; they only grow. */
export interface FillerStats {
  /** Filler functions run on this node. */
  fillsStarted: number
  /** Calls that joined a fill already in flight on this node. */
  fillsShared: number
  /** Fills settled by a value that arrived (filled elsewhere) without running the filler. */
  valuesArrived: number
  /** Leases this node granted as owner (to itself or to peers). */
  leasesGranted: number
  /** Lease requests this node refused as owner. */
  leasesRefused: number
  /** Fills run without a lease: owner unreachable, or `maxWaitMs` passed. */
  fallbacks: number
  /** Fillers that threw, rejected or returned `undefined`. */
  fillErrors: number
  /** Fills that reached their deadline. */
  fillTimeouts: number
  /** Failure notices this node sent as owner (or delivered to itself) to requesters it had refused. */
  failuresRelayed: number
  /** Fills on this node rejected because the holder's fill failed on another node. */
  remoteFailures: number
  /** How long this node's filler runs took, in ms (by the node's clock; failed runs included). */
  durationMs: HistogramSnapshot
}

/** The live form of {@link FillerStats}: the duration histogram takes observations. */
export interface FillerCounters extends FillerStats {
  durationMs: Histogram
}

/** A {@link FillerStats} with every counter at zero. */
export function zeroFillerStats(): FillerCounters {
  return {
    fillsStarted: 0,
    fillsShared: 0,
    valuesArrived: 0,
    leasesGranted: 0,
    leasesRefused: 0,
    fallbacks: 0,
    fillErrors: 0,
    fillTimeouts: 0,
    failuresRelayed: 0,
    remoteFailures: 0,
    durationMs: new Histogram()
  }
}
