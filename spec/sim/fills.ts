/**
 * Fill storms: `getWithFiller` for one key on several nodes in the same
 * turn, with a filler that succeeds, throws or hangs until aborted (all
 * after `delayMs` of the node's clock). Every caller and every filler run is
 * recorded with virtual times; `checkFills` judges them at the end:
 *
 * - every caller settles (a hanging filler is cut by the caller's timeout);
 * - a value or an error reaches every caller promptly after the first filler
 *   run ends (`PROMPT_MS`), not after a lease runs out, when the fill ran on
 *   a healthy network;
 * - the filler runs once per cluster on a healthy network;
 * - every hanging filler sees its abort signal by the end.
 */
import type { SimCluster, SimNode } from './cluster.js'
import type { Op } from './model.js'
import type { FillRec, Oracle } from './oracle.js'

/** Caller timeout of a fill: a hanging filler is abandoned after it. */
export const FILL_TIMEOUT_MS = 4000
/** How soon after the first filler run ends every caller must have its answer. */
export const PROMPT_MS = 1500

export function startFill(sim: SimCluster, o: Oracle, t: string, op: Extract<Op, { op: 'fill' }>, i: number): void {
  const live = sim.live()
  const nodes = [...new Set(op.nodes.map((n) => live[n % live.length]!))]
  const rec: FillRec = { op: i, key: op.key, kind: op.kind, healthy: !o.faulty, startEpoch: o.faultEpoch, calls: [], runs: [] }
  o.fills.push(rec)
  o.log(`${t} fill ${JSON.stringify(op.key)} (${op.kind}, ${op.delayMs} ms) on ${nodes.map((n) => `#${n.idx}`).join(' ')}`)
  for (const node of nodes) call(sim, rec, node, op.delayMs, i)
}

function call(sim: SimCluster, rec: FillRec, node: SimNode, delayMs: number, i: number): void {
  const c: FillRec['calls'][number] = { node: node.idx, startedAt: sim.base.now() }
  rec.calls.push(c)
  const filler = (_key: string, ctx: { signal: AbortSignal }): Promise<unknown> => {
    const run = { node: node.idx, startedAt: sim.base.now(), endedAt: undefined as number | undefined, aborted: false }
    rec.runs.push(run)
    ctx.signal.addEventListener('abort', () => { run.aborted = true }, { once: true })
    return new Promise((resolve, reject) => {
      const finish = (): void => {
        run.endedAt = sim.base.now()
        if (rec.kind === 'ok') resolve({ fill: i, by: node.nodeId })
        else reject(new Error(`filler of op ${i} failed on ${node.nodeId}`))
      }
      if (rec.kind === 'hang') ctx.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true })
      else node.clock.setTimeout(finish, delayMs)
    })
  }
  let p: Promise<unknown>
  try {
    p = node.cache.getWithFiller(rec.key, filler, { timeoutMs: FILL_TIMEOUT_MS })
  } catch (err) {
    c.settledAt = sim.base.now()
    c.outcome = 'error'
    c.detail = (err as Error).message
    return
  }
  p.then(
    (v) => Object.assign(c, { settledAt: sim.base.now(), outcome: 'value', detail: JSON.stringify(v) }),
    (err: unknown) => Object.assign(c, { settledAt: sim.base.now(), outcome: 'error', detail: (err as Error).message })
  )
}

/** Judges every fill of the run (see the file header). */
export function checkFills(o: Oracle): void {
  for (const f of o.fills) {
    const name = `fill of op ${f.op} (${f.kind}, ${JSON.stringify(f.key)})`
    for (const c of f.calls) if (c.settledAt === undefined) o.violate('fill-settles', `${name}: the caller on #${c.node} never settled`)
    for (const r of f.runs) if (f.kind === 'hang' && !r.aborted) o.violate('fill-aborts', `${name}: the hanging filler on #${r.node} was never aborted`)
    const healthy = f.healthy && f.startEpoch === o.faultEpoch
    if (!healthy || f.calls.length === 0) continue
    if (f.runs.length > 1) o.violate('fill-once', `${name}: the filler ran ${f.runs.length} times on a healthy cluster (on ${f.runs.map((r) => `#${r.node}`).join(' ')})`)
    const firstEnd = Math.min(...f.runs.map((r) => r.endedAt ?? Infinity))
    if (f.kind === 'hang' || !Number.isFinite(firstEnd)) continue
    for (const c of f.calls) {
      if (c.settledAt === undefined) continue
      const late = c.settledAt - firstEnd
      if (late > PROMPT_MS) o.violate('fill-prompt', `${name}: the caller on #${c.node} got its ${c.outcome} ${Math.round(late)} ms after the filler ended (${c.detail})`)
      if (f.kind === 'ok' && c.outcome !== 'value') o.violate('fill-value', `${name}: the caller on #${c.node} got an error although the filler succeeded: ${c.detail}`)
    }
  }
}
