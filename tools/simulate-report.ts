/**
 * The simulator's report type and its plain-text table. Kept apart from the
 * simulation itself so the report shape can be read (and reused) alone.
 */

/** What one simulated cluster size measured. All times are virtual (manual clock) unless named wall. */
export interface SimulationReport {
  nodes: number
  /** Set when the run was not attempted (e.g. the member tables would not fit the heap). */
  skipped?: string
  lossPercent: number
  latencyMs: [number, number]
  seed: number
  tuning: { profile: string; gossipIntervalMs: number; gossipNodes: number; retransmitMult: number; probeIntervalMs: number }
  bootstrap: {
    /** Member tables were pre-seeded with `membership.preseedForBootstrap` (no join through a seed, nothing queued). */
    method: 'pre-seeded'
    /** Virtual ms until every node's membership broadcast queue (its start-up self-announcement) drained. */
    drainMs: number
    drained: boolean
  }
  /** One payload injected at one node, spread by the delegate seam (infection style). */
  dissemination: {
    reached: number
    reachedAll: boolean
    /** Virtual ms from injection until the last node received it (-1 if not all did). */
    timeToAllMs: number
    /** `ceil(timeToAllMs / gossipIntervalMs)`. */
    rounds: number
    /** `ceil(log2 N) + 3`. */
    boundRounds: number
    withinBound: boolean
    /** Virtual ms until half / 99 % / 99.99 % of nodes had it (-1 if never). */
    timeToHalfMs: number
    timeTo99Ms: number
    timeTo9999Ms: number
    /** `ceil(time / gossipIntervalMs)` for 99 % and 99.99 %. */
    rounds99: number
    rounds9999: number
    /** Serf's epidemic model at the same fan-out, N and loss (tools/epidemic-model.ts): whole rounds, and × gossipIntervalMs. */
    model: { rounds99: number; rounds9999: number; ms99: number; ms9999: number }
  }
  /** Datagrams sent per node per second of virtual time. */
  load: {
    quiet: { avg: number; max: number }
    /** Quiet period, per node per virtual second: datagrams and bytes out and in (averages; max of datagrams out). */
    quietTraffic: { packetsOut: number; packetsIn: number; bytesOut: number; bytesIn: number; maxPacketsOut: number }
    /** From injection until every delegate queue emptied. */
    dissemination: { avg: number; max: number; windowMs: number }
  }
  quiet: {
    seconds: number
    /** `fail` events seen during the quiet period (no node actually failed): observer × subject pairs. */
    falseDeaths: number
    /** Nodes that at least one peer declared dead during the quiet period. */
    falselyDeadNodes: number
    /** Members that became suspect during the quiet period (refuted or not). */
    suspicions: number
  }
  /**
   * One node shut down (no leave) after the quiet period. Absent when not
   * measured. `suspicionMinMs`/`suspicionMaxMs`: the dynamic suspicion
   * timeout's bounds at this N (Lifeguard; shrinks toward the minimum with
   * independent confirmations).
   */
  failureDetection?: { detectedBy: number; survivors: number; allDetectedMs: number; medianMs: number; firstMs: number; suspicionMinMs: number; suspicionMaxMs: number }
  /** A new node joins through node 0 after that. Absent when not measured. */
  joinSpread?: { knownBy: number; of: number; allKnowMs: number }
  /** Heap in use after the cluster was built, MiB. */
  heapMiB: number
  /**
   * Memory of the N×(N−1) member records, measured around pre-seeding after
   * a full GC (only when node runs with --expose-gc; -1 otherwise): heap +
   * external (typed arrays) per record, and the process's RSS after.
   */
  memory: { bytesPerRecord: number; heapMiB: number; externalMiB: number; rssMiB: number; peakRssMiB: number }
  wallSeconds: number
}

const pad = (s: string, n: number): string => s.padStart(n)

/** The stdout table: one line per cluster size. */
export function formatTable(reports: readonly SimulationReport[]): string {
  const head = ['N', 'rounds', 'bound', 'ok', 'to-all ms', 'msg/s avg', 'msg/s max', 'dissem msg/s', 'falsely dead', 'suspicions', 'detect ms', 'join ms', 'heap MiB', 'wall s']
  const widths = head.map((h) => Math.max(h.length, 8))
  const lines = [head.map((h, i) => pad(h, widths[i]!)).join('  ')]
  for (const r of reports) {
    if (r.skipped !== undefined) {
      lines.push(`${pad(String(r.nodes), widths[0]!)}  skipped: ${r.skipped}`)
      continue
    }
    const d = r.dissemination
    const cells = [
      String(r.nodes),
      d.reachedAll ? String(d.rounds) : `${d.reached}/${r.nodes}`,
      String(d.boundRounds),
      d.withinBound ? 'yes' : 'NO',
      d.reachedAll ? d.timeToAllMs.toFixed(0) : '-',
      r.load.quiet.avg.toFixed(2),
      r.load.quiet.max.toFixed(2),
      r.load.dissemination.avg.toFixed(2),
      String(r.quiet.falselyDeadNodes),
      String(r.quiet.suspicions),
      r.failureDetection === undefined ? '-' : r.failureDetection.detectedBy === r.failureDetection.survivors ? r.failureDetection.allDetectedMs.toFixed(0) : `${r.failureDetection.detectedBy}/${r.failureDetection.survivors}`,
      r.joinSpread === undefined ? '-' : r.joinSpread.knownBy === r.joinSpread.of ? r.joinSpread.allKnowMs.toFixed(0) : `${r.joinSpread.knownBy}/${r.joinSpread.of}`,
      r.heapMiB.toFixed(0),
      r.wallSeconds.toFixed(1)
    ]
    lines.push(cells.map((c, i) => pad(c, widths[i]!)).join('  '))
  }
  return lines.join('\n')
}

/**
 * The scale table: spread to 99 % / 99.99 % measured beside Serf's epidemic
 * model, quiet-period traffic per node, false positives, failure detection
 * against the suspicion timeout, memory per member record, peak RSS.
 */
export function formatScaleTable(reports: readonly SimulationReport[]): string {
  const head = ['N', 'loss%', '99% ms (r)', 'model 99%', '99.99% ms (r)', 'model 99.99%', 'dgram/s out', 'dgram/s in', 'B/s out', 'B/s in',
    'false +', 'detect ms', 'susp min-max ms', 'B/record', 'peak RSS MiB']
  const widths = head.map((h) => Math.max(h.length, 6))
  const lines = [head.map((h, i) => pad(h, widths[i]!)).join('  ')]
  const at = (ms: number, rounds: number): string => ms < 0 ? '-' : `${ms.toFixed(0)} (${rounds})`
  for (const r of reports) {
    if (r.skipped !== undefined) continue
    const d = r.dissemination
    const q = r.load.quietTraffic
    const f = r.failureDetection
    const cells = [
      String(r.nodes), String(r.lossPercent),
      at(d.timeTo99Ms, d.rounds99), at(d.model.ms99, d.model.rounds99),
      at(d.timeTo9999Ms, d.rounds9999), at(d.model.ms9999, d.model.rounds9999),
      q.packetsOut.toFixed(2), q.packetsIn.toFixed(2), q.bytesOut.toFixed(0), q.bytesIn.toFixed(0),
      String(r.quiet.falselyDeadNodes),
      f === undefined ? '-' : f.detectedBy === f.survivors ? `${f.firstMs.toFixed(0)}-${f.allDetectedMs.toFixed(0)}` : `${f.detectedBy}/${f.survivors}`,
      f === undefined ? '-' : `${f.suspicionMinMs.toFixed(0)}-${f.suspicionMaxMs.toFixed(0)}`,
      r.memory.bytesPerRecord < 0 ? '-' : r.memory.bytesPerRecord.toFixed(1),
      r.memory.peakRssMiB.toFixed(0)
    ]
    lines.push(cells.map((c, i) => pad(c, widths[i]!)).join('  '))
  }
  return lines.join('\n')
}
