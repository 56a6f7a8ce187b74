/**
 * The metrics bcache exports, defined once for every exporter
 * (`prometheus.ts`, `opentelemetry.ts`): a name path, a kind, a help text and
 * how to read the value from a `stats()` snapshot. An exporter only spells
 * the names its way (`bcache_replication_applied_total` for Prometheus,
 * `bcache.replication.applied` for OpenTelemetry) and reads every value at
 * collection time, so nothing here runs on the cache's hot paths.
 *
 * The labelled ones (drops by reason, members by state) and the two
 * histograms are listed apart: their shapes differ per exporter.
 */
import type { BcacheStats } from './bcache-types.js'
import type { HistogramSnapshot } from './histogram.js'
import type { MemberInfo } from './membership/member.js'

/** What the exporters read: a `Bcache` satisfies it. */
export interface MetricsSource {
  stats(): BcacheStats
  members(): MemberInfo[]
}

/** One plain counter or gauge. */
export interface MetricDef {
  /** Name segments, joined by `_` (Prometheus) or `.` (OpenTelemetry). */
  path: readonly string[]
  kind: 'counter' | 'gauge'
  help: string
  /** OpenTelemetry unit (UCUM), when it is not a plain count. */
  unit?: string
  read: (s: BcacheStats) => number
}

/** One histogram (buckets in ms, see `histogram.ts`). */
export interface HistogramDef {
  path: readonly string[]
  help: string
  read: (s: BcacheStats) => HistogramSnapshot
}

const c = (path: string, help: string, read: (s: BcacheStats) => number, unit?: string): MetricDef =>
  unit === undefined ? { path: path.split('.'), kind: 'counter', help, read } : { path: path.split('.'), kind: 'counter', help, read, unit }
const g = (path: string, help: string, read: (s: BcacheStats) => number, unit?: string): MetricDef =>
  unit === undefined ? { path: path.split('.'), kind: 'gauge', help, read } : { path: path.split('.'), kind: 'gauge', help, read, unit }

/** Every plain counter and gauge, in export order. */
export const METRICS: readonly MetricDef[] = [
  c('hits', 'Reads that found a live value.', (s) => s.hits),
  c('misses', 'Reads that found no live value.', (s) => s.misses),
  c('stale_hits', 'getWithFiller calls answered with an expired value.', (s) => s.staleHits),
  c('sets', 'Local writes.', (s) => s.sets),
  c('deletes', 'Local deletes.', (s) => s.deletes),
  c('evictions', 'Live entries evicted for maxKeys/maxBytes.', (s) => s.evictions),
  c('expirations', 'Live entries expired by TTL.', (s) => s.expirations),
  c('fill.started', 'Filler functions run on this node.', (s) => s.fills.fillsStarted),
  c('fill.shared', 'getWithFiller calls that joined a fill in flight on this node.', (s) => s.fills.fillsShared),
  c('fill.values_arrived', 'Fills settled by a value filled elsewhere.', (s) => s.fills.valuesArrived),
  c('fill.leases_granted', 'Fill leases granted as owner.', (s) => s.fills.leasesGranted),
  c('fill.leases_refused', 'Fill lease requests refused as owner.', (s) => s.fills.leasesRefused),
  c('fill.fallbacks', 'Fills run without a lease.', (s) => s.fills.fallbacks),
  c('fill.errors', 'Fillers that threw, rejected or returned undefined.', (s) => s.fills.fillErrors),
  c('fill.timeouts', 'Fills that reached their deadline.', (s) => s.fills.fillTimeouts),
  c('fill.failures_relayed', 'Fill failure notices relayed as owner.', (s) => s.fills.failuresRelayed),
  c('fill.remote_failures', 'Fills rejected because the holder failed on another node.', (s) => s.fills.remoteFailures),
  c('replication.deltas_out', 'Local writes replicated.', (s) => s.replication.deltasOut),
  c('replication.deltas_in', 'Deltas received from peers.', (s) => s.replication.deltasIn),
  c('replication.applied', 'Peer deltas applied to the store.', (s) => s.replication.applied),
  c('replication.stale', 'Peer deltas older than the held version.', (s) => s.replication.stale),
  c('replication.duplicates', 'Peer deltas already held.', (s) => s.replication.duplicates),
  c('replication.push_datagrams', 'Eager-push datagrams sent.', (s) => s.replication.pushDatagrams),
  c('replication.push_batches', 'Batches sent over push streams.', (s) => s.replication.pushBatches),
  c('replication.relay_datagrams', 'Datagrams this node forwarded as an eager-push relay.', (s) => s.replication.relayDatagrams),
  c('replication.push_paced', 'Turns sent over push streams because the datagram pacing budget was spent.', (s) => s.replication.pushPaced),
  c('acks.requested', 'Acknowledged writes (setAcked) started.', (s) => s.replication.acks.requested),
  c('acks.resolved', 'Acknowledged writes that reached their target.', (s) => s.replication.acks.resolved),
  c('acks.rejected', 'Acknowledged writes rejected (AckError).', (s) => s.replication.acks.rejected),
  c('anti_entropy.rounds', 'Anti-entropy rounds run.', (s) => s.replication.antiEntropy.rounds),
  c('anti_entropy.failed', 'Anti-entropy rounds that failed.', (s) => s.replication.antiEntropy.failed),
  c('anti_entropy.sent_bytes', 'Bytes sent in anti-entropy rounds.', (s) => s.replication.antiEntropy.bytesOut, 'By'),
  c('anti_entropy.received_bytes', 'Bytes received in anti-entropy rounds.', (s) => s.replication.antiEntropy.bytesIn, 'By'),
  c('anti_entropy.entries_sent', 'Entries sent in anti-entropy rounds.', (s) => s.replication.antiEntropy.entriesOut),
  c('anti_entropy.entries_received', 'Entries received in anti-entropy rounds.', (s) => s.replication.antiEntropy.entriesIn),
  c('anti_entropy.in_sync', 'Periodic anti-entropy rounds that ended at the coverage check (peer in sync).', (s) => s.replication.antiEntropy.inSync),
  c('anti_entropy.repaired', 'Entries received in anti-entropy rounds that were new here.', (s) => s.replication.antiEntropy.applied),
  c('membership.packets_in', 'Datagrams received.', (s) => s.membership.packetsIn),
  c('membership.packets_out', 'Datagrams sent.', (s) => s.membership.packetsOut),
  c('membership.probe_failures', 'SWIM probes that got no ack.', (s) => s.membership.probeFailures),
  c('transport.datagram_received_bytes', 'Datagram bytes received.', (s) => s.transport.packetBytesIn, 'By'),
  c('transport.datagram_sent_bytes', 'Datagram bytes sent.', (s) => s.transport.packetBytesOut, 'By'),
  c('transport.stream_received_bytes', 'Stream bytes received (frames and their length prefixes).', (s) => s.transport.streamBytesIn, 'By'),
  c('transport.stream_sent_bytes', 'Stream bytes sent (frames and their length prefixes).', (s) => s.transport.streamBytesOut, 'By'),
  g('keys', 'Live keys held.', (s) => s.keys),
  g('bytes', 'Bytes of the values held.', (s) => s.bytes, 'By'),
  g('tombstones', 'Deletes remembered against resurrection.', (s) => s.tombstones),
  g('expiry_markers', 'Expired writes remembered against resurrection.', (s) => s.expiryMarkers),
  g('membership.health_score', 'Lifeguard local health score (0 = healthy).', (s) => s.membership.healthScore),
  g('replication.push_queued_bytes', 'Bytes waiting in push channels toward peers.', (s) => s.replication.pushQueuedBytes, 'By'),
  g('replication.origins', 'Write origins this node keeps coverage for.', (s) => s.replication.origins)
]

/** Datagrams, frames and deltas dropped, labelled `reason` (a counter). */
export const DROPPED: MetricDef = c('dropped', 'Datagrams, frames and deltas dropped, by reason.', () => 0)

/** Members this node knows, labelled `state` (a gauge; this node included). */
export const MEMBERS: MetricDef = g('members', 'Members known, by state (this node included).', () => 0)

/** Every member state, so that a state with no member reads 0 rather than vanishing. */
export const MEMBER_STATES: readonly MemberInfo['state'][] = ['alive', 'suspect', 'dead', 'left']

/** Members by state, every state present. */
export function membersByState(members: readonly MemberInfo[]): Record<MemberInfo['state'], number> {
  const out = { alive: 0, suspect: 0, dead: 0, left: 0 }
  for (const m of members) out[m.state]++
  return out
}

/** The histograms, in ms. */
export const HISTOGRAMS: readonly HistogramDef[] = [
  { path: ['replication', 'lag'], help: 'Replication lag of peer writes at apply (receiver now minus version wall time).', read: (s) => s.replication.lagMs },
  { path: ['fill', 'duration'], help: 'Duration of filler runs on this node.', read: (s) => s.fills.durationMs }
]

/**
 * `source.stats()` read at most once per turn of the event loop: a scrape
 * collects every metric in one synchronous pass, and they all share one
 * snapshot.
 */
export function statsOncePerTurn(source: MetricsSource): () => BcacheStats {
  let snap: BcacheStats | undefined
  return () => {
    if (snap === undefined) {
      snap = source.stats()
      queueMicrotask(() => { snap = undefined })
    }
    return snap
  }
}
