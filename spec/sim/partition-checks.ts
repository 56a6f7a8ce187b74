/**
 * The checks of partition mode (family `partition`; README "Partition
 * mode"), with the oracle's record of every write.
 *
 * After quiescence, for every key (judged as in invariants.ts: the writes
 * that may have won are the best acknowledged one and every at-risk one
 * above it):
 * - its owners among the live nodes, `ownersOf(key, live ids, replicas)`,
 *   number min(replicas, live), and every live node's own table names the
 *   same ones (`partition-ownership-agrees`);
 * - each owner *stores* (its store, not its near cache) one write that may
 *   have won, the same on every owner, or nothing for a delete
 *   (`partition-owners-hold`);
 * - no non-owner stores it: the hand-off let go (`partition-handed-off`);
 * - every live node's `get` is nothing or a write that may have won
 *   (`partition-read-newest`: near-cache coherence). A near-cache copy of an
 *   older write is excused when the newest write was exposed to a fault
 *   (near-cache.ts: a write whose every copy to a node was lost leaves the
 *   older value there until `nearCacheTtl` ends it).
 *
 * Owner loss: a write is at risk once as many nodes that owned its key as
 * it has owners went down (crash or close: a close hands nothing off)
 * within {@link WINDOW_MS} — failure detection plus the rebalance that
 * gives the key to new owners — or at any time while faults could stop the
 * rebalance. An owner is judged by every member view current during that
 * window, so a node that lost a segment but may not have handed it off yet
 * counts too, and so does every view a fault may have given some nodes
 * (each side of a partition; each node alone under a block or heavy loss),
 * whose owners may have been the only ones to receive a write. (Issue: "no key with a live owner is lost when fewer than R
 * owners fail at once".)
 *
 * A `fetch` is judged when it settles: nothing, a write made after it
 * began (in flight), or a write that may have won when it began; an older
 * value only when a fault was in force since the newest write or during the
 * fetch, or the newest write was under 50 ms old; never a value no write
 * of the key had (`fetch-known-value`).
 */
import { ownersOf } from '../../lib/replication/ownership.js'
import { compareVersions } from '../../lib/store/version.js'
import { SimCluster, type SimNode } from './cluster.js'
import { candidates, explains, keyInfos, short, type KeyInfo } from './judging.js'
import { canon, type Fault } from './model.js'
import type { FetchRec, Oracle, WriteRec } from './oracle.js'

/** How long after a node went down it may still be the only holder of a key (detection plus rebalance), ms. */
export const WINDOW_MS = 30_000

export function partitioning(sim: SimCluster): boolean {
  return sim.all.length > 0 && sim.all[0]!.config.mode === 'partition'
}

/** Records the live node ids now (after a start, a crash, a close, a restart, a join). */
export function recordView(sim: SimCluster, o: Oracle): void {
  if (partitioning(sim)) o.views.push({ at: sim.base.now(), ids: sim.live().map((n) => n.nodeId) })
}

/**
 * A fault began: the member views it may give the nodes. A partition gives
 * each side a view of its own; a block or heavy loss may leave any node
 * believing it is alone (so owning every key). Lighter faults change no view.
 */
export function recordFaultViews(sim: SimCluster, o: Oracle, f: Fault, sides?: SimNode[][]): void {
  if (!partitioning(sim)) return
  const at = sim.base.now()
  const groups = sides ?? (f.f === 'block' || (f.f === 'loss' && f.rate >= 0.5) ? sim.live().map((n) => [n]) : [])
  for (const g of groups) o.views.push({ at, ids: g.map((n) => n.nodeId) })
}

/**
 * Before `node` goes down: its own writes of keys it does not own that still
 * wait in its hand-off list are at risk (their eager push may have reached
 * no owner: one it took for alive was down; its close tries the hand-off
 * once more, within its grace, and a crash not at all).
 */
export function markPendingDown(sim: SimCluster, o: Oracle, node: SimNode): void {
  if (!partitioning(sim)) return
  let marked = 0
  for (const w of o.writes) {
    if (w.atRisk || w.node !== node.idx || w.version === undefined) continue
    const e = SimCluster.pendingEntry(node, w.key)
    if (e === undefined || compareVersions(e.version, w.version) !== 0) continue
    w.atRisk = true
    marked++
  }
  if (marked > 0) o.log(`  ${marked} writes at risk: still in #${node.idx}'s hand-off list`)
}

/**
 * Before `node` goes down: puts at risk the writes whose owners all went down
 * at once (see the file comment) — counting owners that went down up to
 * {@link WINDOW_MS} before the write too: one already dead but not detected
 * yet held nothing of it.
 */
export function markOwnerDown(sim: SimCluster, o: Oracle, node: SimNode): void {
  if (!partitioning(sim)) return
  const now = sim.base.now()
  o.downLog.push({ id: node.nodeId, at: now })
  const from = now - WINDOW_MS
  const since = o.faulty || now - o.faultEndedAt < WINDOW_MS ? -Infinity : from
  // after a fault, any view since it may still be some node's: all of them
  const views = since === -Infinity ? o.views : o.views.filter((v, i) => v.at >= from || (o.views[i + 1]?.at ?? Infinity) >= from)
  const needed = Math.min(sim.replicas, sim.live().length)
  let marked = 0
  for (const [key, writes] of o.byKey()) {
    const owners = new Set(views.flatMap((v) => ownersOf(key, v.ids, sim.replicas)))
    if (!owners.has(node.nodeId)) continue
    for (const w of writes) {
      if (w.atRisk) continue
      const after = Math.max(since, w.at - WINDOW_MS)
      const down = new Set(o.downLog.filter((d) => d.at >= after && owners.has(d.id)).map((d) => d.id))
      if (down.size >= needed) {
        w.atRisk = true
        marked++
      }
    }
  }
  if (marked > 0) o.log(`  ${marked} writes at risk: every owner of their key went down at once`)
}

function storedCanon(n: SimNode, key: string): string {
  return canon(SimCluster.store(n).peekValue(key, () => n.clock.now()))
}

function stores(n: SimNode, key: string): boolean {
  return (SimCluster.store(n) as unknown as { live: { holds(k: string): boolean } }).live.holds(key)
}

/**
 * Checks every key (see the file comment); returns how many checks failed,
 * each to `report` (the first 20). Without `reads` (the quiescence test),
 * reads are not judged: nothing but `nearCacheTtl` repairs a stale near
 * copy, so waiting for one would only hide it.
 */
export function partitionViolations(sim: SimCluster, o: Oracle, report: (what: string, detail: string) => void, reads = true): number {
  const live = sim.live()
  const ids = live.map((n) => n.nodeId)
  const now = sim.base.now()
  const shortDelay = Math.min(...live.map((n) => n.config.deletionDelay))
  let bad = 0
  const say = (what: string, detail: string): void => {
    if (!reads && what.startsWith('partition-read')) return
    if (++bad <= 20) report(what, detail)
  }
  for (const [key, info] of keyInfos(o)) {
    const cands = candidates(info.writes)
    if (cands.length === 0) continue
    const best = cands[0]!
    if (best.del && now - best.at >= shortDelay) continue // its tombstone may be gone (as invariants.ts)
    checkKey(sim, o, key, info, cands, ids, say)
  }
  return bad
}

function checkKey(sim: SimCluster, o: Oracle, key: string, info: KeyInfo, cands: WriteRec[], ids: string[], say: (what: string, detail: string) => void): void {
  const live = sim.live()
  const k = JSON.stringify(key)
  const owners = ownersOf(key, ids, sim.replicas)
  if (owners.length !== Math.min(sim.replicas, live.length)) say('partition-owner-count', `${k}: ${owners.length} owners among ${live.length} live nodes at replicas ${sim.replicas}`)
  for (const n of live) {
    const seen = SimCluster.ownersSeenBy(n, key)
    if (seen.join(',') === owners.join(',')) continue
    const members = n.cache.members().filter((m) => m.state === 'alive' || m.state === 'suspect').map((m) => `${m.nodeId}${m.state === 'suspect' ? '(suspect)' : ''}`).join(' ')
    say('partition-ownership-agrees', `${k}: #${n.idx} (${n.nodeId}) names owners [${seen.join(' ')}], the live nodes give [${owners.join(' ')}] (its members up: ${members})`)
  }
  const ownerNodes = live.filter((n) => owners.includes(n.nodeId))
  const held = ownerNodes.map((n) => storedCanon(n, key))
  if (!cands.some((w) => ownerNodes.every((n, i) => explains(w, n, held[i]!, live)))) {
    const want = cands.map((w) => `w${w.id}=${w.del ? 'u' : short(w.canon)}`).join(' or ')
    const elsewhere = live.filter((n) => !owners.includes(n.nodeId) && storedCanon(n, key) !== 'u').map((n) => `#${n.idx}=${short(storedCanon(n, key))}`)
    say('partition-owners-hold', `${k}: owners store ${ownerNodes.map((n, i) => `#${n.idx}=${short(held[i]!)}${stores(n, key) ? '' : '(not held)'}`).join(' ')}, want ${want}${elsewhere.length === 0 ? '' : `; non-owners store ${elsewhere.join(' ')}`}`)
  }
  for (const n of live) {
    const owner = owners.includes(n.nodeId)
    if (!owner && stores(n, key)) say('partition-handed-off', `${k}: non-owner #${n.idx} (${n.nodeId}) still stores ${short(storedCanon(n, key))}`)
    const got = canon(n.cache.get(key))
    if (got === 'u' || cands.some((w) => explains(w, n, got, live))) continue
    const older = info.writes.find((w) => !w.del && w.canon === got)
    if (older === undefined) {
      say('partition-read-known', `${k} on #${n.idx} reads ${short(got)}, which no write of the key had`)
      continue
    }
    // a near copy of an older write, left because every copy of the newer one to this node was lost (near-cache.ts)
    if (!stores(n, key) && exposed(o, cands[0]!)) continue
    say('partition-read-newest', `${k} on #${n.idx} (${n.nodeId}, ${owner ? 'owner' : 'non-owner'}, ${stores(n, key) ? 'store' : 'near cache'}) reads ${short(got)} (w${older.id} from #${older.node}), want nothing or ${cands.map((w) => `w${w.id}`).join(' or ')}`)
  }
}

/** Whether copies of `w` may have been lost: a fault was in force at the write or began after it. */
function exposed(o: Oracle, w: WriteRec): boolean {
  return w.epoch !== o.faultEpoch
}

/** Starts `node.cache.fetch(key)`; its result is judged when it settles. */
export function startFetch(sim: SimCluster, o: Oracle, t: string, node: SimNode, key: string, op: number): void {
  const f: FetchRec = { op, node: node.idx, key, startedAt: sim.base.now(), writesBefore: o.writes.length, clearsBefore: o.clears.length, epoch: o.faulty ? -1 : o.faultEpoch, settled: false }
  o.fetches.push(f)
  o.log(`${t} fetch #${node.idx} ${JSON.stringify(key)}`)
  node.cache.fetch(key).then((v) => {
    f.settled = true
    judgeFetch(sim, o, f, node, canon(v))
  }, (err: Error) => {
    f.settled = true
    o.log(`  fetch [${op}] on #${node.idx} rejected: ${err.message}`)
    if (node.alive) o.violate('fetch-resolves', `fetch [${op}] of ${JSON.stringify(key)} on live #${node.idx} rejected: ${err.message}`)
  })
}

function judgeFetch(sim: SimCluster, o: Oracle, f: FetchRec, node: SimNode, got: string): void {
  const k = JSON.stringify(f.key)
  o.log(`  fetch [${f.op}] on #${f.node} ${k} -> ${short(got)}`)
  if (got === 'u') return
  const all = o.byKey().get(f.key) ?? []
  const before = all.filter((w) => (w.id >= 1_000_000 ? w.id - 1_000_000 < f.clearsBefore : w.id < f.writesBefore))
  if (all.some((w) => !before.includes(w) && !w.del && w.canon === got)) return // made while the fetch was in flight
  const cands = candidates(before)
  if (cands.some((w) => explains(w, node, got, sim.live()))) return
  const known = all.find((w) => !w.del && w.canon === got)
  if (known === undefined) return o.violate('fetch-known-value', `fetch [${f.op}] of ${k} on #${f.node} returned ${short(got)}, which no write of the key had`)
  const best = cands[0]
  const calm = best !== undefined && f.epoch !== -1 && f.epoch === o.faultEpoch && best.epoch === f.epoch && best.at <= f.startedAt - 50
  if (!calm) return
  const newer = best.version !== undefined && known.version !== undefined && compareVersions(best.version, known.version) > 0
  o.violate('fetch-newest', `fetch [${f.op}] of ${k} on #${f.node} returned w${known.id} from #${known.node}${newer ? ' (older)' : ''}, want nothing or ${cands.map((w) => `w${w.id}`).join(' or ')} (no fault since w${best.id}, ${Math.round(f.startedAt - best.at)} ms before the fetch)`)
}

/** After every node closed: no fetch is left pending. */
export function checkFetchesSettled(o: Oracle): void {
  for (const f of o.fetches) if (!f.settled) o.violate('fetch-settled', `fetch [${f.op}] of ${JSON.stringify(f.key)} on #${f.node} still pending after every node closed`)
}
