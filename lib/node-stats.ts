/** `Bcache.stats()`: the counters of every layer of a node, in one snapshot. */
import type { BcacheStats } from './bcache-types.js'
import { mergeCounts } from './drop-counts.js'
import { snapshotHistogram } from './histogram.js'
import type { NodeParts } from './node-parts.js'

/** The facade's own counters. */
export interface FacadeCounters {
  hits: number
  misses: number
  staleHits: number
  sets: number
  deletes: number
}

export function nodeStats(nodeId: string, p: NodeParts<unknown>, counters: FacadeCounters): BcacheStats {
  const { store, membership, replicator, filler, transport } = p
  const m = membership.stats()
  const r = replicator.stats()
  const { dropped: transportDropped, ...t } = transport.stats()
  return {
    nodeId,
    keys: store.size(),
    bytes: store.bytes(),
    tombstones: store.tombstones(),
    expiryMarkers: store.expiryMarkers(),
    ...counters,
    evictions: store.stats.evictions,
    expirations: store.stats.expirations,
    fills: { ...filler.stats, durationMs: snapshotHistogram(filler.stats.durationMs) },
    replication: { ...r, lagMs: snapshotHistogram(r.lagMs) },
    membership: m,
    transport: t,
    dropped: mergeCounts(m.dropped, r.dropped, transportDropped),
    ...(replicator.partition === undefined ? {} : { partition: replicator.partition.stats() })
  }
}
