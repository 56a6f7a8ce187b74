/**
 * The report of `bcache-bench --simulate-replication` (one cluster size, one
 * writer pattern), the per-node aggregation behind it, and its table.
 */
import type { NodeCounts } from './replication-cluster.js'

/** What nodes send and receive, per write (write phase) or per second (idle). */
export interface TrafficFigures {
  bytesOut: number
  bytesIn: number
  udpBytesOut: number
  udpBytesIn: number
  streamBytesOut: number
  streamBytesIn: number
  datagramsOut: number
  datagramsIn: number
}

/** A figure for the writer (node 0), the mean over the other nodes, and the largest node. */
export interface NodeSpread {
  writer: TrafficFigures
  othersMean: TrafficFigures
  max: TrafficFigures
}

export interface ReplicationReport {
  nodes: number
  writers: 'uniform' | 'hot'
  /** Writes per second, whole cluster. */
  rate: number
  seconds: number
  valueBytes: number
  seed: number
  profile: string
  latencyMs: [number, number]
  /** Virtual seconds from the first start until membership was complete and quiet. */
  bootstrapSeconds: number
  /** Steady idle cost per node, per virtual second (no writes; SWIM, anti-entropy, push-pull). */
  idle: {
    seconds: number
    /** Before any write: an empty cache. */
    perSecond: NodeSpread
    /** After the writes: every node holds them, and digests carry their write origins. */
    perSecondWithData: NodeSpread
  }
  writes: {
    issued: number
    /** Writes that reached every node before the drain cap. */
    reachedAll: number
    /** Per write: virtual ms from `set` on the writer until every node holds it. */
    visibleMs: { p50: number; p99: number; max: number }
    /** Virtual ms after the last write until every write was on every node (-1: cap hit). */
    drainMs: number
    /** Virtual ms after the drain until datagram traffic was back near idle (-1: cap hit). */
    tailMs: number
    /** Write phase, drain and tail, virtual ms: the window the per-write figures are measured over. */
    windowMs: number
  }
  /** Per write: the window's traffic minus each node's own idle rate over the window, divided by the writes. */
  perWrite: NodeSpread
  /** Cluster-wide replication counters over the window. */
  replication: { pushDatagrams: number; pushBatches: number; pushStreams: number; antiEntropyRounds: number; antiEntropyBytesOut: number }
  /** Heap used after the bootstrap (garbage of earlier runs in the process included unless run with --expose-gc). */
  heapMiB: number
  /** Not a result (a busy machine changes it): how long the run took. */
  wallSeconds: number
}

const FIELDS = ['bytesOut', 'bytesIn', 'udpBytesOut', 'udpBytesIn', 'streamBytesOut', 'streamBytesIn', 'datagramsOut', 'datagramsIn'] as const

function zero(): TrafficFigures {
  return { bytesOut: 0, bytesIn: 0, udpBytesOut: 0, udpBytesIn: 0, streamBytesOut: 0, streamBytesIn: 0, datagramsOut: 0, datagramsIn: 0 }
}

/** Traffic between two snapshots of one node. */
export function trafficBetween(a: NodeCounts, b: NodeCounts): TrafficFigures {
  const udpOut = b.udpBytesOut - a.udpBytesOut, udpIn = b.udpBytesIn - a.udpBytesIn
  const streamOut = b.streamBytesOut - a.streamBytesOut, streamIn = b.streamBytesIn - a.streamBytesIn
  return {
    bytesOut: udpOut + streamOut, bytesIn: udpIn + streamIn, udpBytesOut: udpOut, udpBytesIn: udpIn, streamBytesOut: streamOut, streamBytesIn: streamIn,
    datagramsOut: b.datagramsOut - a.datagramsOut, datagramsIn: b.datagramsIn - a.datagramsIn
  }
}

/** `a - k·b`, field by field. */
export function minusScaled(a: TrafficFigures, b: TrafficFigures, k: number): TrafficFigures {
  const out = zero()
  for (const f of FIELDS) out[f] = a[f] - k * b[f]
  return out
}

/** Every field divided by `d`. */
export function divided(a: TrafficFigures, d: number): TrafficFigures {
  const out = zero()
  for (const f of FIELDS) out[f] = d === 0 ? 0 : a[f] / d
  return out
}

/** Node 0 (the writer), the mean of the others, the field-wise max over all. */
export function spreadOf(perNode: readonly TrafficFigures[]): NodeSpread {
  const mean = zero()
  const max = zero()
  for (const f of FIELDS) max[f] = -Infinity
  perNode.forEach((t, i) => {
    for (const f of FIELDS) {
      if (i > 0) mean[f] += t[f] / (perNode.length - 1)
      if (t[f] > max[f]) max[f] = t[f]
    }
  })
  return { writer: perNode[0] ?? zero(), othersMean: mean, max }
}

/** Rounds every number (stable JSON for a seed, readable tables). */
export function rounded(t: TrafficFigures): TrafficFigures {
  const out = zero()
  for (const f of FIELDS) out[f] = Math.round(t[f] * 10) / 10
  return out
}

function row(name: string, t: TrafficFigures): string {
  const b = (x: number): string => x.toFixed(0).padStart(9)
  const d = (x: number): string => x.toFixed(2).padStart(8)
  return `  ${name.padEnd(14)}${b(t.bytesOut)}${b(t.udpBytesOut)}${b(t.streamBytesOut)}${d(t.datagramsOut)}${b(t.bytesIn)}${b(t.udpBytesIn)}${b(t.streamBytesIn)}${d(t.datagramsIn)}`
}

/** The human-readable form of some reports. */
export function formatReplicationReports(reports: readonly ReplicationReport[]): string {
  const lines: string[] = []
  const head = `  ${''.padEnd(14)}${'B out'.padStart(9)}${'udp'.padStart(9)}${'stream'.padStart(9)}${'dgr out'.padStart(8)}${'B in'.padStart(9)}${'udp'.padStart(9)}${'stream'.padStart(9)}${'dgr in'.padStart(8)}`
  for (const r of reports) {
    const w = r.writes
    lines.push(`N=${r.nodes}, ${r.writers} writers, ${r.rate} writes/s for ${r.seconds} s (${w.issued} writes, ${r.valueBytes}-byte values), profile ${r.profile}, latency ${r.latencyMs[0]}-${r.latencyMs[1]} ms, seed ${r.seed}`)
    lines.push(`  visible on every node: ${w.reachedAll}/${w.issued} writes, p50 ${w.visibleMs.p50} ms, p99 ${w.visibleMs.p99} ms, max ${w.visibleMs.max} ms (virtual); drain ${w.drainMs} ms, tail ${w.tailMs} ms`)
    lines.push(`  per write (window ${w.windowMs} ms, idle subtracted):`)
    lines.push(head)
    lines.push(row('writer node-0', r.perWrite.writer), row('others (mean)', r.perWrite.othersMean), row('max node', r.perWrite.max))
    lines.push(`  idle, per node per second (${r.idle.seconds} s):`)
    lines.push(head)
    lines.push(row('node-0', r.idle.perSecond.writer), row('others (mean)', r.idle.perSecond.othersMean), row('max node', r.idle.perSecond.max))
    lines.push(`  idle with the data, per node per second (${r.idle.seconds} s):`)
    const d = r.idle.perSecondWithData
    lines.push(row('node-0', d.writer), row('others (mean)', d.othersMean), row('max node', d.max))
    const rp = r.replication
    lines.push(`  window: ${rp.pushDatagrams} push datagrams, ${rp.pushBatches} push batches, ${rp.pushStreams} push streams, ${rp.antiEntropyRounds} anti-entropy rounds (${rp.antiEntropyBytesOut} B out)`)
    lines.push(`  bootstrap ${r.bootstrapSeconds} s virtual; heap ${r.heapMiB} MiB; wall ${r.wallSeconds} s (not a result)`)
    lines.push('')
  }
  return lines.join('\n')
}
