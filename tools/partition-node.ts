/**
 * partition-node: one partition-mode Bcache node (`mode: 'partition'`) in
 * its own process, driven over IPC, for the partition benchmarks
 * (benchmarks/partition-reads.ts, benchmarks/partition-rebalance.ts; spawn
 * it with `tools/partition-processes.ts`).
 *
 * Options: the shared ones (see `node-child.ts`: --listen, --join,
 * --node-id, --profile, default lan), --replicas N (2), --max-keys N,
 * --near-keys N (nearCacheKeys, 10000), --near-ttl MS (nearCacheTtl, 60000).
 * The node binds the real UDP/TCP transport (`listenAddr`), so
 * `stats().transport` counts every byte its sockets carried.
 *
 * Keys and values are deterministic (cache-data.ts): key `${prefix}:${i}`,
 * value `valueFor(prefix, i, 0, bytes)`.
 *
 * To the parent: {type:'ready', nodeId, address, createStartAt, createdAt}
 * (epoch ms around `Bcache.create()`, which in partition mode includes the
 * initial pull of the owned segments), then a reply to every request. The
 * commands are the functions listed in `handlers`. Exits when the parent
 * goes away.
 */
import { Bcache, ownersOf, segmentOf } from '../lib/index.js'
import { epochNow, keyOf, valueFor } from './cache-data.js'
import { exitWithParent, parseNodeArgs, runNode, send, serveRequests, type Handlers, type Req } from './node-child.js'

const args = parseNodeArgs({ replicas: '2', 'max-keys': '2000000', 'near-keys': '10000', 'near-ttl': '60000' }, 'lan')

/** A writer's key range: `keyOf(prefix, i)` for i in [from, from + count). */
export interface KeyRange { prefix: string; from?: number; count: number }

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** p50 and p99 (µs) of latencies in µs. */
function quantiles(us: Float64Array): { p50: number; p99: number } {
  const s = Array.from(us).sort((a, b) => a - b)
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))] ?? NaN
  return { p50: at(0.5), p99: at(0.99) }
}

/** Writes every key of `ranges`, `chunk` per event-loop turn, waiting for `'drain'` when `set` says replication is backed up. */
async function fill(cache: Bcache<string>, r: Req): Promise<unknown> {
  const ranges = r.ranges as KeyRange[], bytes = r.bytes as number, chunk = (r.chunk as number) ?? 500
  const t0 = epochNow()
  for (const { prefix, from = 0, count } of ranges) {
    for (let i = from; i < from + count;) {
      let backedUp = false
      for (const end = Math.min(from + count, i + chunk); i < end; i++) backedUp = !cache.set(keyOf(prefix, i), valueFor(prefix, i, 0, bytes)) || backedUp
      if (backedUp) await new Promise<void>((resolve) => { const t = setTimeout(resolve, 1000); cache.once('drain', () => { clearTimeout(t); resolve() }) })
      else await immediate()
    }
  }
  return { ms: epochNow() - t0 }
}

/** Each `get` of `keys` timed alone (hrtime; the two clock reads are included): p50/p99 µs, hits, and the near-cache hits it counted. */
function timeGets(cache: Bcache<string>, r: Req): unknown {
  const keys = r.keys as string[]
  const lat = new Float64Array(keys.length)
  const nearBefore = cache.stats().partition!.near.hits
  let hits = 0
  for (let i = 0; i < keys.length; i++) {
    const t = process.hrtime.bigint()
    const v = cache.get(keys[i]!)
    lat[i] = Number(process.hrtime.bigint() - t) / 1000
    if (v !== undefined) hits++
  }
  return { ...quantiles(lat), hits, nearHits: cache.stats().partition!.near.hits - nearBefore }
}

/** Sequential awaited `fetch` of `keys`: p50/p99 µs, how many were found, and how many went to an owner (fetch requests counted). */
async function timeFetches(cache: Bcache<string>, r: Req): Promise<unknown> {
  const keys = r.keys as string[]
  const lat = new Float64Array(keys.length)
  const before = cache.stats().partition!.fetch
  let found = 0
  for (let i = 0; i < keys.length; i++) {
    const t = process.hrtime.bigint()
    const v = await cache.fetch(keys[i]!)
    lat[i] = Number(process.hrtime.bigint() - t) / 1000
    if (v !== undefined) found++
  }
  const after = cache.stats().partition!.fetch
  return { ...quantiles(lat), found, requests: after.requests - before.requests, ownerFound: after.found - before.found }
}

/** The keys of `ranges` this node owns among `ids` (the owners of a segment computed once). */
function ownedKeys(self: string, ids: string[], replicas: number, ranges: KeyRange[]): string[] {
  const bySegment = new Map<number, boolean>()
  const out: string[] = []
  for (const { prefix, from = 0, count } of ranges) {
    for (let i = from; i < from + count; i++) {
      const key = keyOf(prefix, i), s = segmentOf(key)
      let mine = bySegment.get(s)
      if (mine === undefined) bySegment.set(s, mine = ownersOf(key, ids, replicas).includes(self))
      if (mine) out.push(key)
    }
  }
  return out
}

/**
 * Polls every `everyMs` until this node holds (`has`: in partition mode,
 * stored, for a key it owns and never read) every key of `ranges` it owns by
 * the table over `ids`, or `timeoutMs` passed. A full pass only runs once
 * the store holds at least as many keys as are missing, so polling a
 * receiving node costs little. Returns when the last one was there.
 */
async function awaitOwned(cache: Bcache<string>, r: Req): Promise<unknown> {
  const ids = r.ids as string[], ranges = r.ranges as KeyRange[]
  const timeoutMs = (r.timeoutMs as number) ?? 60_000, everyMs = (r.everyMs as number) ?? 20
  let todo = ownedKeys(cache.nodeId, ids, Number(args.get('replicas')), ranges)
  const owned = todo.length
  const deadline = epochNow() + timeoutMs
  let passes = 0
  for (;;) {
    if (cache.stats().keys >= owned) {
      passes++
      todo = todo.filter((k) => !cache.has(k))
    }
    if (todo.length === 0 || epochNow() >= deadline) break
    await sleep(everyMs)
  }
  return { owned, missing: todo.length, doneAt: epochNow(), passes, sample: todo.slice(0, 3) }
}

/** Stored keys, alive members, stream and datagram bytes, and the partition counters. */
function status(cache: Bcache<string>): unknown {
  const s = cache.stats()
  return { at: epochNow(), keys: s.keys, members: cache.members().filter((m) => m.state === 'alive').length, transport: s.transport, partition: s.partition }
}

function handlers(cache: Bcache<string>): Handlers {
  return {
    fill: (r) => fill(cache, r),
    timeGets: (r) => timeGets(cache, r),
    timeFetches: (r) => timeFetches(cache, r),
    awaitOwned: (r) => awaitOwned(cache, r),
    status: () => status(cache)
  }
}

async function main(): Promise<void> {
  const createStartAt = epochNow()
  const cache = await Bcache.create<string>({
    ...args.base,
    mode: 'partition',
    replicas: Number(args.get('replicas')),
    nearCacheKeys: Number(args.get('near-keys')),
    nearCacheTtl: Number(args.get('near-ttl')),
    maxKeys: Number(args.get('max-keys')),
    statsInterval: 0
  })
  const createdAt = epochNow()
  serveRequests(handlers(cache))
  exitWithParent(() => cache.close())
  send({ type: 'ready', nodeId: cache.nodeId, address: cache.address, createStartAt, createdAt })
}

runNode('partition-node', main)
