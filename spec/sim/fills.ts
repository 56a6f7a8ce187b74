/**
 * Fill storms: `getWithFiller` for one key on several nodes in the same
 * turn, with a filler that succeeds, throws or hangs until aborted (all
 * after `delayMs` of the node's clock). Every caller and every filler run is
 * recorded with virtual times; `checkFills` judges them at the end:
 *
 * - every caller settles (a hanging filler is cut by the caller's timeout);
 * - a value or an error reaches every caller promptly after the first filler
 *   run ends (`PROMPT_MS`), not after a lease runs out, when the fill ran on
 *   a healthy network; a caller that settled before that, while a fill of
 *   the same key from another operation was pending, got that fill's
 *   outcome (it joined its flight, or waited on its lease) and is not judged,
 *   nor is a caller that joined the flight of another fill on its node;
 * - the filler runs once per cluster on a healthy network (see `checkOnce`
 *   for a filler that fails);
 * - every hanging filler sees its abort signal by the end.
 *
 * Healthy means no fault, and every live node's membership view is the set
 * of live nodes when the fill starts and when each caller settles: the
 * lease owner is a rendezvous over that view, so two nodes that see
 * different members (a join still spreading by gossip) ask different
 * owners and each fill; the design promises once per node then, not once
 * per cluster.
 */
import type { SimCluster, SimNode } from './cluster.js'
import type { Op } from './model.js'
import type { FillCall, FillRec, Oracle } from './oracle.js'

/** Caller timeout of a fill: a hanging filler is abandoned after it. */
export const FILL_TIMEOUT_MS = 4000
/** How soon after the first filler run ends every caller must have its answer. */
export const PROMPT_MS = 1500

export function startFill(sim: SimCluster, o: Oracle, t: string, op: Extract<Op, { op: 'fill' }>, i: number): void {
  const live = sim.live()
  const nodes = [...new Set(op.nodes.map((n) => live[n % live.length]!))]
  const rec: FillRec = { op: i, key: op.key, kind: op.kind, healthy: !o.faulty && viewsAgree(sim), startEpoch: o.faultEpoch, calls: [], runs: [] }
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
  const settled = (outcome: 'value' | 'error', detail: string): void => {
    Object.assign(c, { settledAt: sim.base.now(), outcome, detail })
    if (!viewsAgree(sim)) rec.healthy = false
  }
  p.then(
    (v) => settled('value', JSON.stringify(v)),
    (err: unknown) => settled('error', (err as Error).message)
  )
}

/** Whether every live node sees exactly the live nodes as alive members (itself included). */
function viewsAgree(sim: SimCluster): boolean {
  const live = sim.live()
  const want = live.map((n) => n.nodeId).sort().join(',')
  return live.every((n) => n.cache.members().filter((m) => m.state === 'alive').map((m) => m.nodeId).sort().join(',') === want)
}

/** Judges every fill of the run (see the file header). */
export function checkFills(o: Oracle): void {
  for (const f of o.fills) {
    const name = `fill of op ${f.op} (${f.kind}, ${JSON.stringify(f.key)})`
    for (const c of f.calls) if (c.settledAt === undefined) o.violate('fill-settles', `${name}: the caller on #${c.node} never settled`)
    for (const r of f.runs) if (f.kind === 'hang' && !r.aborted) o.violate('fill-aborts', `${name}: the hanging filler on #${r.node} was never aborted`)
    const healthy = f.healthy && f.startEpoch === o.faultEpoch
    if (!healthy || f.calls.length === 0) continue
    checkOnce(o, f, name)
    const firstEnd = Math.min(...f.runs.map((r) => r.endedAt ?? Infinity))
    if (f.kind === 'hang' || !Number.isFinite(firstEnd)) continue
    for (const c of f.calls) {
      if (c.settledAt === undefined || joinedOther(o, f, c)) continue
      const late = c.settledAt - firstEnd
      if (late > PROMPT_MS) o.violate('fill-prompt', `${name}: the caller on #${c.node} got its ${c.outcome} ${Math.round(late)} ms after the filler ended (${c.detail})`)
      // settled before this op's value existed, while another fill of the key ran: that fill's outcome
      if (late < 0 && overlapsOtherFill(o, f, c)) continue
      // an earlier fill's failure still on its way to the owner when this caller asked: it joined that fill (README)
      if (c.outcome !== 'value' && failedJustBefore(o, f, c)) continue
      if (f.kind === 'ok' && c.outcome !== 'value') o.violate('fill-value', `${name}: the caller on #${c.node} got an error although the filler succeeded: ${c.detail}`)
    }
  }
}

/**
 * Once per cluster: no filler run starts while another is still going (the
 * lease is exclusive). A filler that failed is not cached, so a request that
 * reaches the owner after the failed run released its lease is a fresh fill
 * and may run again (a filler that throws within a network trip does); a
 * value is stored before the lease is released, so a successful fill is
 * never run twice, nor is a hanging one (its run ends only when aborted).
 */
function checkOnce(o: Oracle, f: FillRec, name: string): void {
  const runs = f.runs
  const overlapping = runs.filter((r, i) => runs.some((q, j) => j < i && r.startedAt < (q.endedAt ?? Infinity))) // runs are recorded as they start
  const bad = f.kind === 'throw' ? overlapping.length > 0 : runs.length > 1
  if (bad) o.violate('fill-once', `${name}: the filler ran ${runs.length} times on a healthy cluster (on ${runs.map((r) => `#${r.node}`).join(' ')})${f.kind === 'throw' ? `, ${overlapping.length} while another run was still going` : ''}`)
}

/**
 * Whether `c` joined the flight of another fill: a caller of another fill of
 * the key was pending on the same node when `c` started, so `c` shares that
 * flight and gets its outcome (a hanging filler's timeout, say). That
 * flight is judged through its own callers, not through `c`; nor is it bound
 * by the healthy-cluster promises when it started unhealthy (an owner that
 * did not yet know the requester could not send it the failure).
 */
function joinedOther(o: Oracle, f: FillRec, c: FillCall): boolean {
  return o.fills.some((g) => g !== f && g.key === f.key &&
    g.calls.some((d) => d.node === c.node && d.startedAt <= c.startedAt && (d.settledAt ?? Infinity) > c.startedAt))
}

/** Longest a holder's failure can take to reach the key's owner (a release stream's dial and frame). */
const FAILURE_TRANSIT_MS = 50

/** Whether another fill of the key failed less than one failure transit before `c` asked. */
function failedJustBefore(o: Oracle, f: FillRec, c: FillCall): boolean {
  return o.fills.some((g) => g !== f && g.key === f.key && g.kind !== 'ok' &&
    g.runs.some((r) => r.endedAt !== undefined && r.endedAt <= c.startedAt && c.startedAt - r.endedAt < FAILURE_TRANSIT_MS))
}

/** Whether a caller of another fill of the same key was pending while `c` was. */
function overlapsOtherFill(o: Oracle, f: FillRec, c: FillCall): boolean {
  const end = c.settledAt ?? Infinity
  return o.fills.some((g) => g !== f && g.key === f.key && g.calls.some((d) => d.startedAt < end && (d.settledAt ?? Infinity) > c.startedAt))
}
