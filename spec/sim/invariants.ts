/**
 * The invariants checked on the final, quiescent state of a run (DESIGN.md
 * 1, 2, 8–12), with the oracle's record of every write.
 *
 * Which value a node must hold for a key: the acknowledged write with the
 * highest version (compared with the library's own `compareVersions`; the
 * version is the one the writer held right after the write), or any at-risk
 * write above it (it may have survived). A delete is "absent"; a write whose
 * TTL passed on that node's clock is "absent" there. A key whose winning
 * delete is older than the shortest deletionDelay is skipped (its tombstone
 * may legitimately be gone, and an older copy come back).
 *
 * Which nodes must hold it ("has room"): a node whose maxKeys is at least the
 * number of distinct keys ever set, whose maxBytes (if any) covers the sum
 * of each key's largest entry, and whose maxValueBytes and maxFrameBytes can
 * carry the key's largest value. Other nodes are not judged: they may miss a
 * key (eviction, or refusing a value larger than they accept), and after an
 * eviction they no longer know the newer version, so an older copy may come
 * back to them. A write made on a node without room is at risk: the writer
 * may evict it before any node with room has it.
 */
import type { SimCluster, SimNode } from './cluster.js'
import { checkFills } from './fills.js'
import { candidates, explains, expected, keyInfos, short, type KeyInfo } from './judging.js'
import { canon } from './model.js'
import type { Oracle, WriteRec } from './oracle.js'
import { partitioning, partitionViolations } from './partition-checks.js'

const MiB = 1024 * 1024

function roomFor(sim: SimCluster, o: Oracle): (n: SimNode, info: KeyInfo) => boolean {
  const infos = keyInfos(o)
  let keys = 0
  let bytes = 0
  for (const info of infos.values()) {
    if (info.writes.some((w) => !w.del)) keys++
    bytes += info.largestSize
  }
  const room = (n: SimNode, info: KeyInfo): boolean =>
    n.config.maxKeys >= keys && (n.config.maxBytes === 0 || n.config.maxBytes >= bytes) &&
    n.config.maxValueBytes >= info.largest && n.config.maxFrameBytes >= info.largest + 64 * 1024
  // A writer without room may evict its own write before any node with room
  // received it (say, a member it did not know yet): the write is then gone,
  // as from a single LRU. Such writes are at risk (README: at-risk window).
  for (const info of infos.values()) {
    for (const w of info.writes) if (!w.atRisk && !room(sim.all[w.node]!, info)) w.atRisk = true
    // An acked write saved from risk relies on its other holders keeping it.
    for (const w of info.writes) if (w.ack?.saved === true && !w.atRisk && sim.all.some((n) => !room(n, info))) w.atRisk = true
  }
  return room
}

/** True when every live node reads what it should for every key (the quiescence test). */
export function converged(sim: SimCluster, o: Oracle): boolean {
  if (invalidating(sim)) return invalidationViolations(sim, o, () => false) === 0
  if (partitioning(sim)) return partitionViolations(sim, o, () => {}, false) === 0
  const live = sim.live()
  const room = roomFor(sim, o)
  for (const [key, info] of keyInfos(o)) {
    const roomy = live.filter((n) => room(n, info))
    if (!agree(roomy, key, key.startsWith('f') ? [] : candidates(info.writes))) return false
  }
  return true
}

/** After every node closed: no `setAcked` promise is left pending. */
export function checkAcksSettled(o: Oracle): void {
  for (const w of o.writes) if (w.ack !== undefined && w.ack.outcome === undefined) o.violate('acked-settled', `w${w.id}: setAcked on #${w.node} still pending after every node closed`)
}

/** Checks every final-state invariant; violations go to the oracle. */
export function checkFinal(sim: SimCluster, o: Oracle): void {
  if (invalidating(sim)) invalidationViolations(sim, o, (what, detail) => o.violate(what, detail))
  else if (partitioning(sim)) partitionViolations(sim, o, (what, detail) => o.violate(what, detail))
  else checkValues(sim, o)
  checkMemory(sim, o)
  checkFills(o)
}

function checkValues(sim: SimCluster, o: Oracle): void {
  const live = sim.live()
  const room = roomFor(sim, o)
  const shortDelay = Math.min(...live.map((n) => n.config.deletionDelay))
  const now = sim.base.now()
  let reported = 0
  for (const [key, info] of keyInfos(o)) {
    if (reported >= 20) return o.violate('more', 'further value violations not listed')
    const k = JSON.stringify(key)
    const roomy = live.filter((n) => room(n, info))
    const cands = key.startsWith('f') ? [] : candidates(info.writes)
    const reads = new Set(roomy.map((n) => canon(n.cache.get(key))))
    if (reads.size > 1 && !agree(roomy, key, cands)) {
      reported++
      o.violate('agreement', `${k}: nodes with room disagree: ${roomy.map((n) => `#${n.idx}=${short(canon(n.cache.get(key)))}`).join(' ')}`)
    }
    if (cands.length === 0) continue
    const best = cands[0]!
    if (best.del && now - best.at >= shortDelay) continue
    for (const n of live) {
      const got = canon(n.cache.get(key))
      if (cands.some((w) => explains(w, n, got, live))) continue
      if (!room(n, info) && got === 'u') continue
      // a node without room may even hold an older value: it forgot the newer version when it evicted the key
      if (!room(n, info)) continue
      reported++
      const want = cands.map((w) => `w${w.id}=${short(expected(w, n))}`).join(' or ')
      const older = info.writes.find((w) => !w.del && w.canon === got)
      const expiredWinner = !best.del && best.expiresAt !== 0 && expected(best, n) === 'u'
      const what = got === 'u' ? 'no-lost-write'
        : older === undefined ? 'last-writer-wins'
        : best.del ? 'no-resurrection'
        : expiredWinner ? 'no-resurrection-after-expiry' : 'last-writer-wins'
      o.violate(what, `${k} on #${n.idx} (${n.nodeId}) reads ${short(got)}${older ? ` (w${older.id} from #${older.node})` : ''}, want ${want}`)
    }
  }
}

function invalidating(sim: SimCluster): boolean {
  return sim.all.length > 0 && sim.all[0]!.config.mode === 'invalidate'
}

/**
 * Invalidation mode (no values travel): once every node heard of every
 * write, a node reads either nothing or a value it wrote itself that is one
 * of the writes that may have won (the newest acknowledged one, or an
 * at-risk one above it) — never a value older than the newest write it has
 * heard of. Returns how many reads break that; each goes to `report`.
 */
function invalidationViolations(sim: SimCluster, o: Oracle, report: (what: string, detail: string) => void): number {
  const live = sim.live()
  let bad = 0
  for (const [key, info] of keyInfos(o)) {
    const cands = candidates(info.writes)
    for (const n of live) {
      const got = canon(n.cache.get(key))
      if (got === 'u') continue
      if (cands.some((w) => !w.del && w.node === n.idx && explains(w, n, got, live))) continue
      bad++
      if (bad <= 20) {
        const older = info.writes.find((w) => !w.del && w.canon === got)
        report('invalidated', `${JSON.stringify(key)} on #${n.idx} (${n.nodeId}) reads ${short(got)}${older ? ` (w${older.id} from #${older.node})` : ''}, want nothing or its own newest write`)
      }
    }
  }
  return bad
}

/** Whether one write explains what every node reads (expiry judged on each node's own clock). */
function agree(nodes: SimNode[], key: string, cands: WriteRec[]): boolean {
  const reads = nodes.map((n) => canon(n.cache.get(key)))
  if (cands.length === 0) return reads.every((r) => r === reads[0])
  return cands.some((w) => nodes.every((n, i) => explains(w, n, reads[i]!, nodes)))
}

function checkMemory(sim: SimCluster, o: Oracle): void {
  const now = sim.base.now()
  // in invalidation mode every write is a tombstone on the other nodes (an invalidation), kept as long
  const deletedKeys = new Set(o.writes.filter((w) => w.del || invalidating(sim)).map((w) => w.key)).size
  const lastDeleteAt = invalidating(sim) ? Math.max(o.lastDeleteAt, ...o.writes.map((w) => w.at)) : o.lastDeleteAt
  const minFrame = Math.min(...sim.all.map((n) => n.config.maxFrameBytes))
  for (const n of sim.all) {
    const peak = n.transport.peakStreamUnreadBytes()
    const bound = n.config.streamHighWaterBytes + minFrame
    if (peak > bound) o.violate('bounded-stream-buffers', `#${n.idx} had ${peak} bytes unread by one peer on one stream (bound ${bound}: high-water mark plus one frame)`)
    const tooLarge = n.transport.stats().dropped['frame-too-large'] ?? 0
    if (tooLarge > 0) o.violate('frames-within-limit', `#${n.idx} (maxFrameBytes ${n.config.maxFrameBytes}) refused ${tooLarge} frames a peer sent above its limit`)
    if (!n.alive) continue
    const s = n.cache.stats()
    const purgeDone = now - lastDeleteAt >= n.config.deletionDelay + 8000
    const tombBound = purgeDone ? 200 : deletedKeys + 200
    if (s.tombstones > tombBound) o.violate('tombstones-reclaimed', `#${n.idx} holds ${s.tombstones} tombstones, bound ${tombBound} (${deletedKeys} keys deleted, last ${Math.round(now - lastDeleteAt)} ms ago, deletionDelay ${n.config.deletionDelay})`)
    const r = s.replication as unknown as Record<string, unknown>
    const queued = r.pushQueuedBytes
    // Bounded per peer (maxStreamQueueBytes, 8 MiB by default) beyond each connection's own buffer.
    const queueBound = (sim.all.length - 1) * 8 * MiB + MiB
    if (typeof queued === 'number' && queued > queueBound) o.violate('bounded-push-queue', `#${n.idx} pushQueuedBytes ${queued}, bound ${queueBound}`)
    const origins = sizeOf(r.origins)
    if (origins !== undefined && origins > 2 * sim.all.length + 2) o.violate('origins-retired', `#${n.idx} tracks ${origins} write origins for ${sim.all.length} process starts`)
    const digest = sizeOf(r.digestBytes)
    if (digest !== undefined && digest > 64 * 1024 + 64 * sim.all.length) o.violate('bounded-digest', `#${n.idx} digest of ${digest} bytes`)
  }
}

function sizeOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (Array.isArray(v)) return v.length
  if (v instanceof Map || v instanceof Set) return v.size
  return undefined
}
