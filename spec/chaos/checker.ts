/**
 * The chaos suite's checker: records every acknowledged write and decides,
 * after the faults end, whether the cluster converged without losing any.
 *
 * A write is *acknowledged* when the node that applied it replied to the
 * test (the reply leaves after `set`/`delete` returned). Writers apply their
 * batches one after the other, so per writer the acknowledgement order is
 * the order of the cache's versions (a writer's hybrid logical clock only
 * grows).
 *
 * What must hold on every live node, for every key:
 * - all nodes agree (same digest over every key ever written, same number
 *   of live keys, so no key the checker does not know about either);
 * - the value is the *last* acknowledged write of one of the writers that
 *   wrote the key (a delete counting as "absent"). A key written by one
 *   writer has exactly one allowed value; a key several writers wrote
 *   concurrently may end on any of their last writes (last writer wins by
 *   version, which the checker cannot see), but never on a write a writer
 *   itself superseded, nor be absent unless that write was a delete.
 * No TTL and a `maxKeys` far above the key count mean nothing may expire or
 * be evicted: "present" is strict.
 *
 * Writers that were SIGKILLed are *at risk*: a write acknowledged by a node
 * that died a millisecond later may never have left it, which no protocol
 * can prevent. Keys written by an at-risk writer are checked for agreement
 * only; the report counts how many of their writes survived anyway.
 */
import type { ChaosNode } from '../../tools/chaos-cluster.js'
import type { ChaosOp } from '../../tools/chaos-node.js'

/** What one check found. */
export interface CheckResult {
  /** Every live node has the same digest and key count. */
  agree: boolean
  /** Keys whose value (on the first node) is not an allowed one: lost or resurrected writes. */
  lost: number
  /** Up to 5 such keys, with what was found and what was allowed. */
  lostSample: Array<{ key: string; found: string | null; allowed: Array<string | null> }>
  /** Keys checked strictly (no at-risk writer). */
  strictKeys: number
  /** At-risk keys whose writer's last acknowledged write is present anyway. */
  atRiskSurvived: number
  atRiskKeys: number
  digests: string[]
}

export class WriteChecker {
  // key -> writer -> last acknowledged value (null = deleted)
  private readonly last = new Map<string, Map<string, string | null>>()
  private readonly atRisk = new Set<string>()
  /** Acknowledged operations, in total. */
  acknowledged = 0

  /** Records a batch the writer `writer` acknowledged, in its order. */
  record(writer: string, ops: readonly ChaosOp[]): void {
    for (const op of ops) {
      let row = this.last.get(op.key)
      if (row === undefined) this.last.set(op.key, (row = new Map()))
      row.set(writer, op.value ?? null)
    }
    this.acknowledged += ops.length
  }

  /** The last value `writer` acknowledged for `key` (null: a delete; undefined: it never wrote it). */
  lastOf(writer: string, key: string): string | null | undefined {
    return this.last.get(key)?.get(writer)
  }

  /** Marks a writer whose node was killed: its keys are checked for agreement only. */
  markAtRisk(writer: string): void {
    this.atRisk.add(writer)
  }

  /** Every key ever written, sorted. */
  keys(): string[] {
    return [...this.last.keys()].sort()
  }

  /** Checks the live `nodes` once (see the top of the file). */
  async check(nodes: readonly ChaosNode[]): Promise<CheckResult> {
    const keys = this.keys()
    const views = await Promise.all(nodes.map((n) => n.call<{ digest: string; present: number; keys: number }>('digest', { keys })))
    const agree = views.every((v) => v.digest === views[0]!.digest && v.keys === views[0]!.keys && v.keys === v.present)
    const values = await nodes[0]!.call<Array<string | null>>('values', { keys })
    let lost = 0, strictKeys = 0, atRiskKeys = 0, atRiskSurvived = 0
    const lostSample: CheckResult['lostSample'] = []
    keys.forEach((key, i) => {
      const row = this.last.get(key)!
      const found = values[i]!
      const risky = [...row.keys()].some((w) => this.atRisk.has(w))
      if (risky) {
        atRiskKeys++
        if ([...row.values()].includes(found)) atRiskSurvived++
        return
      }
      strictKeys++
      const allowed = [...row.values()]
      if (allowed.includes(found)) return
      lost++
      if (lostSample.length < 5) lostSample.push({ key, found, allowed })
    })
    return { agree, lost, lostSample, strictKeys, atRiskSurvived, atRiskKeys, digests: views.map((v) => v.digest.slice(0, 12)) }
  }

  /**
   * Polls `check` every `everyMs` until the nodes agree with nothing lost, or
   * `timeoutMs`. Returns the ms it took (or -1) and the last result.
   */
  async waitConverged(nodes: readonly ChaosNode[], timeoutMs: number, everyMs = 50): Promise<{ ms: number; result: CheckResult }> {
    const t0 = performance.now()
    for (;;) {
      const result = await this.check(nodes)
      const ms = performance.now() - t0
      if (result.agree && result.lost === 0) return { ms, result }
      if (ms > timeoutMs) return { ms: -1, result }
      await new Promise((r) => setTimeout(r, everyMs))
    }
  }
}
