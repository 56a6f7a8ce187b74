/** The counters of the replication layer, shared by its parts. */
import { Histogram, type HistogramSnapshot } from '../histogram.js'
import type { AntiEntropyStats } from './anti-entropy.js'

/** Counters of the replication layer (see `Bcache.stats().replication`). */
export interface ReplicationStats {
  /** Local writes replicated. */
  deltasOut: number
  /** Deltas received from peers (datagrams, push streams, anti-entropy). */
  deltasIn: number
  applied: number
  stale: number
  duplicates: number
  /** Datagrams of eager pushes sent (one per member per datagram). */
  pushDatagrams: number
  /** Batches sent over push streams (bursts and large values), counted once for all members. */
  pushBatches: number
  /** Turns small enough for datagrams sent over push streams instead, because the datagram pacing budget was spent (eager-push.ts). */
  pushPaced: number
  /** Datagrams this node forwarded as a relay of another node's push (relay-push.ts; one per member). */
  relayDatagrams: number
  /** Push streams opened. */
  pushStreams: number
  /** Bytes waiting in push channels toward peers now (bounded; see push-channels.ts). */
  pushQueuedBytes: number
  /** Write origins this node keeps coverage for now (bounded by retirement). */
  origins: number
  /** Bytes of this node's last anti-entropy digest. */
  digestBytes: number
  antiEntropy: AntiEntropyStats
  /** Acknowledged writes (`setAcked`): started, resolved, rejected (AckError). */
  acks: { requested: number; resolved: number; rejected: number }
  /**
   * Replication lag of the peers' writes applied here, in ms: this node's
   * `now` minus the write's version wall time at apply (clock skew included;
   * negatives count as 0).
   */
  lagMs: HistogramSnapshot
  /** Deltas, batches and streams dropped, by reason. */
  dropped: Record<string, number>
}

/** Counters that only go up (the gauges are filled in when stats are read). */
export type ReplicationCounters = Omit<ReplicationStats, 'dropped' | 'pushQueuedBytes' | 'origins' | 'lagMs'> & { lagMs: Histogram }

export function newCounters(): ReplicationCounters {
  return {
    deltasOut: 0, deltasIn: 0, applied: 0, stale: 0, duplicates: 0, pushDatagrams: 0, pushBatches: 0, pushPaced: 0, relayDatagrams: 0, pushStreams: 0, digestBytes: 0,
    acks: { requested: 0, resolved: 0, rejected: 0 },
    antiEntropy: { rounds: 0, failed: 0, bytesOut: 0, bytesIn: 0, entriesOut: 0, entriesIn: 0, applied: 0, inSync: 0, tooLargeForPeer: 0 },
    lagMs: new Histogram()
  }
}
