/**
 * The workload of bcache-bench, run inside each node (a cache-node child
 * process, or in the bench process itself with --in-process).
 *
 * Every writer's operations are a pure function of (seed, writer index,
 * sequence number): which key, set / set-with-TTL / delete. So every other
 * node can rebuild a writer's schedule and watch for each write without being
 * told about it. Writer w writes only its own keys `w<w>:<k>`; a value is
 * `<seq>|` padded to the value size, so a node that reads a value whose seq is
 * >= s knows write s (or a later one on that key) has arrived.
 *
 * All nodes start at the same epoch instant (`startAt`; `epochNow()` is
 * comparable across processes on one machine). Writers pace their sets in
 * 1 ms ticks; every node does its share of reads and, every tick, looks for
 * newly arrived writes of the other writers (a window scan from the oldest
 * unseen one). After `seconds`, writing stops and nodes keep looking until
 * every timed write has arrived or `convergeTimeoutMs` passes.
 *
 * A set is timed unless a later delete of the same key is in the schedule
 * (then "absent" would be ambiguous); deletes themselves are not timed.
 */
import type { Bcache } from '../lib/index.js'
import { seededRandom } from '../lib/testing.js'
import { epochNow } from './cache-data.js'

/** What every node needs to run (and watch) the workload. */
export interface LoadSpec {
  /** Epoch ms at which every node starts. */
  startAt: number
  seconds: number
  /** Writes per second of each writer. */
  ratePerWriter: number
  /** Reads per second on every node. */
  readRate: number
  /** Writers are nodes 0 .. writers-1. */
  writers: number
  keys: number
  distribution: 'uniform' | 'zipf'
  valueBytes: number
  /** Share [0, 1] of writes that are sets with `ttlMs`. */
  ttlShare: number
  ttlMs: number
  /** Share [0, 1] of writes that are deletes. */
  deleteShare: number
  seed: number
  convergeTimeoutMs: number
}

/** Resource counters of one node at one instant. */
export interface NodeSnapshot {
  at: number
  packetsIn: number
  packetsOut: number
  /** Every byte the node's transport received: datagrams and streams (push, anti-entropy, push-pull). */
  bytesIn: number
  /** Every byte the node's transport sent. */
  bytesOut: number
  /** process.cpuUsage() user + system, µs. */
  cpuMicros: number
  rss: number
  members: number
  /** Datagrams the `--loss` fault stage dropped on the way out (0 without it). */
  lost: number
}

export interface LoadResult {
  node: number
  /** Epoch ms of each of this node's writes (NaN: not written). Empty unless a writer. */
  setAt: number[]
  written: number
  /** Key + value bytes of this node's writes. */
  payloadBytes: number
  /** Epoch ms at which writing stopped. */
  endAt: number
  /** Per writer index: epoch ms this node first saw each timed write (0: never; -1: not timed or own). */
  seenAt: number[][]
  /** Epoch ms of the last first sighting (0 if none). */
  lastSeenAt: number
  /** Every timed write of every other writer seen. */
  converged: boolean
  reads: number
  hits: number
  start: NodeSnapshot
  end: NodeSnapshot
  done: NodeSnapshot
}

const SET = 0, SET_TTL = 1, DELETE = 2

/** One writer's operations. */
export interface Schedule {
  key: string[]
  kind: Uint8Array
  /** 1 if the write is timed (see file comment). */
  timed: Uint8Array
}

/** Builds writer `w`'s schedule of `count` operations. */
export function buildSchedule(spec: LoadSpec, w: number, count: number): Schedule {
  const random = seededRandom(spec.seed * 7919 + w * 104729 + 1)
  const pick = keyPicker(spec, random)
  const key = new Array<string>(count)
  const kind = new Uint8Array(count)
  const timed = new Uint8Array(count)
  const deletedLater = new Set<string>()
  for (let s = 0; s < count; s++) {
    key[s] = `w${w}:${pick()}`
    const r = random()
    kind[s] = r < spec.deleteShare ? DELETE : r < spec.deleteShare + spec.ttlShare ? SET_TTL : SET
  }
  for (let s = count - 1; s >= 0; s--) {
    if (kind[s] === DELETE) deletedLater.add(key[s]!)
    else timed[s] = deletedLater.has(key[s]!) ? 0 : 1
  }
  return { key, kind, timed }
}

/** A key index generator: uniform, or Zipf (exponent 1) by inverse CDF. */
function keyPicker(spec: LoadSpec, random: () => number): () => number {
  if (spec.distribution === 'uniform') return () => Math.floor(random() * spec.keys)
  const cdf = new Float64Array(spec.keys)
  let sum = 0
  for (let k = 0; k < spec.keys; k++) cdf[k] = sum += 1 / (k + 1)
  return () => {
    const x = random() * sum
    let lo = 0, hi = spec.keys - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (cdf[mid]! < x) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

export const opsPerWriter = (spec: LoadSpec): number => Math.max(1, Math.ceil(spec.ratePerWriter * spec.seconds))

/** `<seq>|` padded with 'x' to `bytes` characters (never shorter than the prefix). */
export function valueOf(seq: number, bytes: number): string {
  const head = `${seq}|`
  return head.length >= bytes ? head : head + 'x'.repeat(bytes - head.length)
}

/** The seq carried by a value written by valueOf (-1 if it is not one). */
function seqOf(v: unknown): number {
  if (typeof v !== 'string') return -1
  const bar = v.indexOf('|')
  return bar <= 0 ? -1 : Number(v.slice(0, bar))
}

export function snapshot(cache: Bcache<string>): NodeSnapshot {
  const s = cache.stats()
  const cpu = process.cpuUsage()
  return {
    at: epochNow(),
    packetsIn: s.membership.packetsIn,
    packetsOut: s.membership.packetsOut,
    bytesIn: s.transport.packetBytesIn + s.transport.streamBytesIn,
    bytesOut: s.transport.packetBytesOut + s.transport.streamBytesOut,
    cpuMicros: cpu.user + cpu.system,
    rss: process.memoryUsage().rss,
    members: cache.members().filter((m) => m.state === 'alive').length,
    lost: s.dropped['fault-loss'] ?? 0
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** What one node's run has done so far (see {@link runLoad}). */
interface LoadProgress {
  /** Own writes issued, and when each was. */
  written: number
  setAt: number[]
  payloadBytes: number
  reads: number
  hits: number
  /** Per writer: when each timed write was first seen (0: not yet; -1: not watched). */
  seenAt: number[][]
  /** Per writer: first index not yet seen. */
  next: number[]
  lastSeenAt: number
  turns: number
}

function startProgress(schedules: Schedule[], node: number, count: number, writes: boolean): LoadProgress {
  const seenAt = schedules.map((sc, w) => {
    const a = new Array<number>(count).fill(0)
    for (let s = 0; s < count; s++) if (w === node || sc.timed[s] === 0) a[s] = -1
    return a
  })
  const p: LoadProgress = {
    written: 0, setAt: writes ? new Array<number>(count).fill(NaN) : [], payloadBytes: 0, reads: 0, hits: 0,
    seenAt, next: new Array<number>(schedules.length).fill(0), lastSeenAt: 0, turns: 0
  }
  for (let w = 0; w < schedules.length; w++) advance(p, w, count)
  return p
}

/** Moves writer `w`'s first-unseen index past what has been seen. */
function advance(p: LoadProgress, w: number, count: number): void {
  while (p.next[w]! < count && p.seenAt[w]![p.next[w]!] !== 0) p.next[w]!++
}

/** Issues this node's writes due by `now` (all of them once the run is over). */
function writeDue(cache: Bcache<string>, spec: LoadSpec, mine: Schedule, p: LoadProgress, count: number, now: number, endAt: number): void {
  const elapsed = Math.min(now, endAt) - spec.startAt
  const due = now >= endAt ? count : Math.min(count, Math.floor((elapsed * spec.ratePerWriter) / 1000) + 1)
  for (; p.written < due; p.written++) {
    const key = mine.key[p.written]!, kind = mine.kind[p.written]!
    if (kind === DELETE) {
      cache.delete(key)
      p.payloadBytes += Buffer.byteLength(key)
    } else {
      const v = valueOf(p.written, spec.valueBytes)
      cache.set(key, v, kind === SET_TTL ? { ttl: spec.ttlMs } : undefined)
      p.payloadBytes += Buffer.byteLength(key) + Buffer.byteLength(v)
    }
    p.setAt[p.written] = epochNow()
  }
}

/**
 * Looks for the other writers' timed writes that arrived: from each one's
 * first unseen index, up to 64 misses in a row (every key every 200 turns,
 * and once the run is over).
 */
function watchWriters(cache: Bcache<string>, schedules: Schedule[], p: LoadProgress, count: number, now: number, over: boolean): void {
  for (let w = 0; w < schedules.length; w++) {
    if (p.next[w]! >= count) continue
    const sc = schedules[w]!, seen = p.seenAt[w]!
    const full = p.turns % 200 === 0 || over
    let misses = 0
    for (let s = p.next[w]!; s < count && (full || misses < 64); s++) {
      if (seen[s] !== 0) continue
      if (seqOf(cache.get(sc.key[s]!)) >= s) {
        seen[s] = now
        p.lastSeenAt = now
        misses = 0
      } else {
        misses++
      }
    }
    advance(p, w, count)
  }
}

/** Runs the workload as node `node`; resolves when it is done watching. */
export async function runLoad(cache: Bcache<string>, spec: LoadSpec, node: number): Promise<LoadResult> {
  const count = opsPerWriter(spec)
  const schedules = Array.from({ length: spec.writers }, (_, w) => buildSchedule(spec, w, count))
  const mine = node < spec.writers ? schedules[node] : undefined
  const p = startProgress(schedules, node, count, mine !== undefined)
  const pending = (): boolean => p.next.some((n) => n < count)
  const readPick = keyPicker(spec, seededRandom(spec.seed * 31 + node + 7))
  const readRandom = seededRandom(spec.seed * 37 + node)
  const endAt = spec.startAt + spec.seconds * 1000
  while (epochNow() < spec.startAt) await sleep(Math.min(5, Math.max(1, spec.startAt - epochNow())))
  const start = snapshot(cache)
  let end: NodeSnapshot | undefined
  let writingEnd = endAt
  for (;;) {
    const now = epochNow()
    if (mine !== undefined && p.written < count) writeDue(cache, spec, mine, p, count, now, endAt)
    if (now < endAt) {
      const dueReads = Math.floor(((now - spec.startAt) * spec.readRate) / 1000)
      for (; p.reads < dueReads; p.reads++) {
        if (cache.get(`w${Math.floor(readRandom() * spec.writers)}:${readPick()}`) !== undefined) p.hits++
      }
    }
    p.turns++
    watchWriters(cache, schedules, p, count, now, now >= endAt)
    if (now >= endAt && end === undefined) {
      end = snapshot(cache)
      writingEnd = mine === undefined ? endAt : Math.max(...p.setAt.filter((t) => !Number.isNaN(t)), spec.startAt)
    }
    if (end !== undefined && (!pending() || now > endAt + spec.convergeTimeoutMs)) break
    await sleep(now >= endAt ? 2 : 1)
  }
  const { setAt, written, payloadBytes, seenAt, lastSeenAt, reads, hits } = p
  return { node, setAt, written, payloadBytes, endAt: writingEnd, seenAt, lastSeenAt, converged: !pending(), reads, hits, start, end: end!, done: snapshot(cache) }
}
