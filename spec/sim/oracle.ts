/**
 * What the simulator remembers of a run, to judge it afterwards: every write
 * it made (node, key, canonical value, version the writer gave it, expiry,
 * time, turn, whether it is at risk), every fill and its callers, the trace
 * lines, and the violations found so far.
 *
 * At risk: a write whose writer crashed or closed in the same turn (before
 * the deltas of that turn could leave), or while a fault was in force or
 * since the write (the write may never have left the writer). Such a write
 * may be lost; it may also survive and win, so it is a candidate winner but
 * never a required one.
 *
 * Acknowledged (`setAcked`): a write whose ack resolved with `needed` nodes
 * holding it is not put at risk by its writer's crash or close while fewer
 * than `needed` nodes went down since it resolved (one holder is still up);
 * invariants.ts puts it back at risk when some node lacks room for its key
 * (a holder could have evicted it).
 */
import type { Version } from '../../lib/store/version.js'

/** A `clear` the simulator made: a delete of every key starting with `prefix` ('' = every key), at the clear's version. */
export interface ClearRec extends WriteRec {
  prefix: string
  /** Its delete of each key, made on demand by {@link Oracle.byKey} and kept (so marks of risk stick). */
  perKey: Map<string, WriteRec>
}

export interface WriteRec {
  id: number
  key: string
  node: number
  del: boolean
  /** canonical value at set time ('' for a delete) */
  canon: string
  /** encoded bytes of the value (0 for a delete) */
  bytes: number
  /** what the entry counts against maxBytes (the store's `sizeOf`; 0 for a delete) */
  size: number
  expiresAt: number
  /** the version the writer holds right after the write; undefined when the write was not visible */
  version?: Version
  at: number
  turn: number
  /** fault epoch at the time of the write (see {@link Oracle.faultEpoch}); -1 when a fault was in force */
  epoch: number
  atRisk: boolean
  /** A `setAcked` write: nodes needed, and its outcome once settled (`'resolved'` or the AckError's reason / error name) */
  ack?: AckRec
}

export interface AckRec {
  needed: number
  outcome?: string
  /** {@link Oracle.downs} when it resolved */
  downsAtAck?: number
  /** its writer went down and only the ack kept it from being at risk */
  saved?: boolean
}

export interface FillCall {
  node: number
  startedAt: number
  settledAt?: number
  outcome?: 'value' | 'error'
  detail?: string
}

export interface FillRec {
  op: number
  key: string
  kind: 'ok' | 'throw' | 'hang'
  /** true when no fault was in force or began while the fill ran */
  healthy: boolean
  startEpoch: number
  calls: FillCall[]
  runs: Array<{ node: number; startedAt: number; endedAt?: number; aborted: boolean }>
}

/** A `fetch` the simulator made (partition-checks.ts judges it when it settles). */
export interface FetchRec {
  op: number
  node: number
  key: string
  startedAt: number
  /** writes and clears made before it (their counts in {@link Oracle.writes} and {@link Oracle.clears}) */
  writesBefore: number
  clearsBefore: number
  /** fault epoch at the start; -1 when a fault was in force */
  epoch: number
  settled: boolean
}

export interface Violation {
  invariant: string
  detail: string
}

/** The record of one run. */
export class Oracle {
  readonly writes: WriteRec[] = []
  readonly clears: ClearRec[] = []
  readonly fills: FillRec[] = []
  readonly violations: Violation[] = []
  readonly trace: string[] = []
  turn = 0
  /** bumped by every fault, so a write knows whether a fault came after it */
  faultEpoch = 0
  /** a fault is in force */
  faulty = false
  lastDeleteAt = -Infinity
  /** crashes and closes so far */
  downs = 0
  /** a node id accepted twice while both were alive */
  duplicateIds: string[] = []
  /** when the last fault was healed (-Infinity: none yet) */
  faultEndedAt = -Infinity
  /** Partition mode: the live node ids after every start, crash, close, restart and join (partition-checks.ts) */
  readonly views: Array<{ at: number; ids: string[] }> = []
  /** Partition mode: every node that went down, and when (partition-checks.ts markOwnerDown) */
  readonly downLog: Array<{ id: string; at: number }> = []
  /** Partition mode: the `fetch` calls made, judged as they settle */
  readonly fetches: FetchRec[] = []

  log(line: string): void {
    this.trace.push(line)
  }

  violate(invariant: string, detail: string): void {
    this.violations.push({ invariant, detail })
    this.trace.push(`  !! ${invariant}: ${detail}`)
  }

  /**
   * Marks the writes of `node` that a crash or close now may lose: those of
   * this turn, those made under faults, and, when its push streams still
   * held bytes (`streamsSince`), every write made since that time.
   */
  markAtRisk(node: number, streamsSince?: number): void {
    for (const w of [...this.writes, ...this.clears]) {
      if (w.node !== node || w.atRisk) continue
      const inFlight = streamsSince !== undefined && w.at >= streamsSince
      if (!(w.turn === this.turn || this.faulty || w.epoch !== this.faultEpoch || inFlight)) continue
      const a = w.ack
      if (a?.outcome === 'resolved' && this.downs + 1 - a.downsAtAck! < a.needed) a.saved = true
      else w.atRisk = true
    }
    this.downs++
    for (const c of this.clears) for (const d of c.perKey.values()) d.atRisk ||= c.atRisk
  }

  /**
   * Writes per key, in the order they were made; then, for every key, the
   * clears covering it (as a delete of the key at the clear's version,
   * whenever the key was first written: a clear drops older writes made
   * after it on a node it had not reached yet).
   */
  byKey(): Map<string, WriteRec[]> {
    const m = new Map<string, WriteRec[]>()
    for (const w of this.writes) {
      let list = m.get(w.key)
      if (list === undefined) m.set(w.key, (list = []))
      list.push(w)
    }
    for (const c of this.clears) {
      for (const [key, list] of m) {
        if (!key.startsWith(c.prefix)) continue
        let d = c.perKey.get(key)
        if (d === undefined) c.perKey.set(key, (d = { ...c, key, del: true, canon: '' }))
        d.atRisk ||= c.atRisk
        list.push(d)
      }
    }
    return m
  }
}
