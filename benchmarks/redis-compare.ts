/**
 * bcache next to Redis, in one run on one machine: what the network hop that
 * bcache removes costs.
 *
 * Redis: this script starts Debian's `redis-server` itself on 127.0.0.1 (a
 * free port found by binding port 0 and closing it; `--save '' --appendonly
 * no`, so nothing touches the disk) and talks to it with ioredis. Per round:
 *   - SET and GET latency: --lat-ops sequential awaits (one request in flight),
 *     p50/p99 of each request's round trip;
 *   - SET and GET throughput: all --keys keys in ioredis pipelines of
 *     --pipeline commands, the next pipeline sent when the previous one's
 *     replies are in (so --pipeline requests in flight).
 * bcache, local get: a standalone node in this process holding the same
 * --keys keys; each get timed alone with `process.hrtime.bigint()` (the two
 * clock reads, ~50 ns, are included), and throughput as a tight loop over
 * every key.
 * bcache, replicated set: a 3-process cluster (tools/cache-processes.ts, lan
 * profile): µs/op of --keys sets in one loop on the writer, and the time
 * until a set is visible on another node (the writer paces --lag-rate sets/s
 * for --lag-count keys, once the set burst is on the reader; the reader
 * polls every 1 ms), p50/p99.
 * Every figure is the median over --rounds rounds; ratios are against Redis
 * in the same run. Values are --bytes bytes.
 *
 * Without `redis-server` on the PATH, the Redis part is skipped (exit 0).
 * redis-server and every cache process are killed at exit, on error and on
 * Ctrl-C.
 *
 * Usage: node dist/benchmarks/redis-compare.js [--rounds 5] [--keys 100000]
 *   [--lat-ops 20000] [--pipeline 100] [--bytes 100] [--lag-rate 10000] [--lag-count 10000]
 */
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'

import { Bcache } from '../lib/index.js'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { median, quantile, runBenchmark, sleep, spawnCacheCluster, waitForCacheMembers, type CacheProcess } from '../tools/cache-processes.js'
import { startRedis, stopRedis } from '../tools/redis-server.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    keys: { type: 'string', default: '100000' },
    'lat-ops': { type: 'string', default: '20000' },
    pipeline: { type: 'string', default: '100' },
    bytes: { type: 'string', default: '100' },
    'lag-rate': { type: 'string', default: '10000' },
    'lag-count': { type: 'string', default: '10000' }
  }
})
const rounds = Number(values.rounds), nKeys = Number(values.keys), latOps = Math.min(Number(values['lat-ops']), nKeys)
const depth = Number(values.pipeline), bytes = Number(values.bytes)

/** Latency (µs, p50/p99) and throughput (ops/s) of one operation, one round. */
interface Figures { p50: number; p99: number; opsPerSec: number }
/** The medians over rounds of each field. */
const medianOf = (xs: Figures[]): Figures => ({ p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), opsPerSec: median(xs.map((x) => x.opsPerSec)) })


const keys = Array.from({ length: nKeys }, (_, i) => keyOf('k', i))
const vals = Array.from({ length: nKeys }, (_, i) => valueFor('k', i, 0, bytes))
const fmt = (x: number, d = 2): string => x.toFixed(d)

/** Sequential awaits of `op` for keys 0..latOps-1: p50/p99 µs; plus pipelined throughput over every key. */
async function redisRound(client: Redis, op: 'set' | 'get'): Promise<Figures> {
  const lat = new Float64Array(latOps)
  for (let i = 0; i < latOps; i++) {
    const t = process.hrtime.bigint()
    if (op === 'set') await client.set(keys[i]!, vals[i]!)
    else await client.get(keys[i]!)
    lat[i] = Number(process.hrtime.bigint() - t) / 1000
  }
  const t0 = performance.now()
  for (let i = 0; i < nKeys; i += depth) {
    const p = client.pipeline()
    for (let j = i; j < Math.min(nKeys, i + depth); j++) {
      if (op === 'set') p.set(keys[j]!, vals[j]!)
      else p.get(keys[j]!)
    }
    await p.exec()
  }
  const ms = performance.now() - t0
  const xs = Array.from(lat)
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), opsPerSec: (nKeys * 1000) / ms }
}

/** Local gets (all hits) on a standalone node: each timed alone, then a tight loop over every key. */
function bcacheGetRound(cache: Bcache<string>): Figures {
  const lat = new Float64Array(nKeys)
  let hits = 0
  for (let i = 0; i < nKeys; i++) {
    const t = process.hrtime.bigint()
    const v = cache.get(keys[i]!)
    lat[i] = Number(process.hrtime.bigint() - t) / 1000
    if (v !== undefined) hits++
  }
  const t0 = performance.now()
  for (let i = 0; i < nKeys; i++) if (cache.get(keys[i]!) !== undefined) hits++
  const ms = performance.now() - t0
  if (hits !== 2 * nKeys) throw new Error(`bcache get: ${2 * nKeys - hits} misses on keys just written`)
  const xs = Array.from(lat)
  return { p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), opsPerSec: (nKeys * 1000) / ms }
}

interface SetBatch { loopMs: number; flushedMs: number }
interface Watch { seen: number; times: number[] }
interface Paced { times: number[] }

/** Replicated set on a 3-process cluster: µs/op on the writer, and set → visible on a reader (µs, p50/p99). */
async function clusterRound(nodes: CacheProcess[], r: number): Promise<{ setUs: number; setFlushUs: number; visible: Figures }> {
  const [w, rd] = nodes
  const b = await w!.call<SetBatch>('setBatch', { prefix: `s${r}`, count: nKeys, bytes })
  // the burst's pushes must be done before the visibility run, or its writes queue behind them
  const v = await rd!.call<{ missing: number }>('verify', { writers: [{ prefix: `s${r}`, count: nKeys }], bytes, timeoutMs: 30_000 })
  if (v.missing !== 0) throw new Error(`set round ${r}: ${v.missing} of ${nKeys} keys not on the reader within 30 s`)
  const count = Number(values['lag-count']), prefix = `v${r}`
  const watch = rd!.call<Watch>('watch', { prefix, count, timeoutMs: 30_000, times: true, pollMs: 1 })
  await sleep(50)
  const p = await w!.call<Paced>('paced', { prefix, count, bytes, rate: Number(values['lag-rate']), times: true })
  const x = await watch
  if (x.seen !== count) throw new Error(`visibility round ${r}: ${x.seen} of ${count} keys arrived`)
  const lags = x.times.map((t, i) => (t - p.times[i]!) * 1000)
  return {
    setUs: (b.loopMs * 1000) / nKeys, setFlushUs: (b.flushedMs * 1000) / nKeys,
    visible: { p50: quantile(lags, 0.5), p99: quantile(lags, 0.99), opsPerSec: Number(values['lag-rate']) }
  }
}

async function measureRedis(): Promise<{ set: Figures; get: Figures } | undefined> {
  const client = await startRedis()
  if (client === undefined) {
    console.log('redis-server not found on the PATH: the Redis part is skipped')
    return undefined
  }
  try {
    const sets: Figures[] = [], gets: Figures[] = []
    for (let r = -1; r < rounds; r++) { // round -1 warms up
      const s = await redisRound(client, 'set'), g = await redisRound(client, 'get')
      if (r < 0) continue
      sets.push(s); gets.push(g)
      console.log(`  redis round ${r + 1}: SET p50 ${fmt(s.p50, 1)} us p99 ${fmt(s.p99, 1)} us, ${fmt(s.opsPerSec, 0)} ops/s pipelined; ` +
        `GET p50 ${fmt(g.p50, 1)} us p99 ${fmt(g.p99, 1)} us, ${fmt(g.opsPerSec, 0)} ops/s pipelined`)
    }
    const dbsize = await client.dbsize()
    if (dbsize !== nKeys) throw new Error(`redis holds ${dbsize} keys, expected ${nKeys}`)
    return { set: medianOf(sets), get: medianOf(gets) }
  } finally {
    client.disconnect()
    await stopRedis()
  }
}

async function measureBcache(): Promise<{ get: Figures; setUs: number; setFlushUs: number; visible: Figures }> {
  const local = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', maxKeys: nKeys * 2, statsInterval: 0 })
  const gets: Figures[] = []
  try {
    for (let i = 0; i < nKeys; i++) local.set(keys[i]!, vals[i]!)
    for (let r = -1; r < rounds; r++) {
      const g = bcacheGetRound(local)
      if (r >= 0) gets.push(g)
    }
  } finally {
    await local.close()
  }
  const nodes = await spawnCacheCluster(3, () => ['--profile', 'lan', '--max-keys', String(nKeys * (rounds + 2) * 2)])
  await waitForCacheMembers(nodes, 3)
  const sets: number[] = [], flushes: number[] = [], visible: Figures[] = []
  for (let r = -1; r < rounds; r++) {
    const c = await clusterRound(nodes, r + 1)
    if (r < 0) continue
    sets.push(c.setUs); flushes.push(c.setFlushUs); visible.push(c.visible)
    console.log(`  bcache round ${r + 1}: get p50 ${fmt(gets[r]!.p50, 3)} us p99 ${fmt(gets[r]!.p99, 3)} us, ${fmt(gets[r]!.opsPerSec, 0)} ops/s; ` +
      `replicated set ${fmt(c.setUs, 3)} us/op (+flush ${fmt(c.setFlushUs, 3)}); visible on another node p50 ${fmt(c.visible.p50, 0)} us p99 ${fmt(c.visible.p99, 0)} us`)
  }
  return { get: medianOf(gets), setUs: median(sets), setFlushUs: median(flushes), visible: medianOf(visible) }
}

async function main(): Promise<void> {
  console.log(`redis-compare: ${nKeys} keys, ${bytes}-byte values, median of ${rounds} rounds; Redis latency = ${latOps} sequential awaits, ` +
    `throughput = pipelines of ${depth}; bcache get in this process, replicated set on 3 processes (lan)`)
  const redis = await measureRedis()
  const bc = await measureBcache()
  const ratio = (a: number, b: number | undefined): string => (b === undefined ? 'n/a' : `${fmt(a / b, 4)}x`)
  console.log(`bcache get (local hit):        p50 ${fmt(bc.get.p50, 3)} us, p99 ${fmt(bc.get.p99, 3)} us, ${fmt(bc.get.opsPerSec, 0)} ops/s`)
  console.log(`bcache replicated set:         ${fmt(bc.setUs, 3)} us/op on the writer (incl. push flush ${fmt(bc.setFlushUs, 3)}); ` +
    `visible on another node p50 ${fmt(bc.visible.p50, 0)} us, p99 ${fmt(bc.visible.p99, 0)} us (at ${values['lag-rate']} sets/s)`)
  if (redis === undefined) return
  console.log(`redis GET:                     p50 ${fmt(redis.get.p50, 1)} us, p99 ${fmt(redis.get.p99, 1)} us, ${fmt(redis.get.opsPerSec, 0)} ops/s (pipelines of ${depth})`)
  console.log(`redis SET:                     p50 ${fmt(redis.set.p50, 1)} us, p99 ${fmt(redis.set.p99, 1)} us, ${fmt(redis.set.opsPerSec, 0)} ops/s (pipelines of ${depth})`)
  console.log(`ratios bcache/redis: get p50 ${ratio(bc.get.p50, redis.get.p50)}, get p99 ${ratio(bc.get.p99, redis.get.p99)}, ` +
    `get throughput ${ratio(bc.get.opsPerSec, redis.get.opsPerSec)}; set (writer us/op vs SET p50) ${ratio(bc.setUs, redis.set.p50)}, ` +
    `set throughput (1/us-per-op vs pipelined SET) ${ratio(1e6 / bc.setUs, redis.set.opsPerSec)}; ` +
    `visible elsewhere vs SET round trip: p50 ${ratio(bc.visible.p50, redis.set.p50)}, p99 ${ratio(bc.visible.p99, redis.set.p99)}`)
}

runBenchmark(main)
