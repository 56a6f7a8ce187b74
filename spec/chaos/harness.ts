/**
 * Shared pieces of the chaos scenarios: writers that drive a node with
 * batches of sets and deletes and record what was acknowledged, false-death
 * counting, and the report line each scenario prints.
 *
 * Each writer has its own key space (`<label>:k<i>`, `keySpace` keys, so
 * keys are overwritten and deleted many times); `shared` adds writes to the
 * keys `s:k<i>` that every writer with `shared` also writes, concurrently.
 */
import type { ChaosEvent, ChaosNode } from '../../tools/chaos-cluster.js'
import type { ChaosOp } from '../../tools/chaos-node.js'
import type { CheckResult, WriteChecker } from './checker.js'

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Chaos time is scaled by CHAOS_SCALE (default 1): `npm run test:chaos` can run longer variants. */
export const SCALE = Math.max(0.2, Number(process.env.CHAOS_SCALE ?? '1') || 1)
export const scaled = (ms: number): number => Math.round(ms * SCALE)

export interface WriterOptions {
  /** Operations per batch (one IPC round trip, one event-loop turn on the node). @default 5 */
  batch?: number
  /** Pause between batches in ms. @default 20 */
  everyMs?: number
  /** Keys in the writer's own space. @default 400 */
  keySpace?: number
  /** Fraction of operations that are deletes. @default 0.15 */
  deleteRate?: number
  /** Also write the shared keys `s:k0..s:k<shared-1>`. @default 0 */
  shared?: number
}

/** Writes to one node in a loop until `stop()`; records each acknowledged batch. */
export class Writer {
  private running = true
  private seq = 0
  private readonly done: Promise<void>
  /** Set when a batch failed (the node died, or a reply timed out): it stays unacknowledged. */
  error: Error | undefined

  constructor(readonly label: string, readonly node: ChaosNode, private readonly checker: WriteChecker, private readonly o: WriterOptions = {}) {
    this.done = this.loop()
  }

  private nextOps(): ChaosOp[] {
    const { batch = 5, keySpace = 400, deleteRate = 0.15, shared = 0 } = this.o
    return Array.from({ length: batch }, () => {
      const seq = this.seq++
      const key = shared > 0 && Math.random() < 0.3
        ? `s:k${Math.floor(Math.random() * shared)}`
        : `${this.label}:k${Math.floor(Math.random() * keySpace)}`
      return Math.random() < deleteRate ? { key } : { key, value: `${this.label}#${seq}` }
    })
  }

  private async loop(): Promise<void> {
    const everyMs = this.o.everyMs ?? 20
    while (this.running) {
      const ops = this.nextOps()
      try {
        await this.node.call('write', { ops }, 15_000)
      } catch (err) {
        this.error = err as Error
        return
      }
      this.checker.record(this.label, ops)
      await sleep(everyMs)
    }
  }

  /** Stops after the batch in flight; resolves once it was acknowledged (or failed). */
  async stop(): Promise<void> {
    this.running = false
    await this.done
  }
}

/** 'fail' events about members in `healthy` (node ids), optionally only after `since` (epoch ms). */
export function falseDeaths(events: readonly ChaosEvent[], healthy: readonly string[], since = 0): ChaosEvent[] {
  return events.filter((e) => e.event === 'fail' && healthy.includes(e.nodeId) && e.at >= since)
}

/** Every scenario's figures, printed as one line each and kept for the summary. */
export const report: Array<Record<string, unknown>> = []

/** Prints a scenario's figures (convergence, false deaths, lost writes, ...). */
export function printFigures(scenario: string, figures: Record<string, unknown>): void {
  report.push({ scenario, ...figures })
  const parts = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === 'number' ? Math.round(v * 10) / 10 : String(v)}`)
  console.log(`      [chaos] ${scenario}: ${parts.join(' ')}`)
}

/** A readable summary of a failed check, for assertion messages. */
export function describeCheck(r: CheckResult): string {
  return `agree=${r.agree} digests=${r.digests.join(',')} lost=${r.lost} ${JSON.stringify(r.lostSample)}`
}

/** Sum of the fault-stage counters over nodes (for the report). */
export async function faultTotals(nodes: readonly ChaosNode[]): Promise<{ lost: number; duplicated: number; delayed: number }> {
  const all = await Promise.all(nodes.map((n) => n.call<{ faults: { lost: number; duplicated: number; delayed: number } }>('stats')))
  return all.reduce((acc, s) => ({ lost: acc.lost + s.faults.lost, duplicated: acc.duplicated + s.faults.duplicated, delayed: acc.delayed + s.faults.delayed }), { lost: 0, duplicated: 0, delayed: 0 })
}
