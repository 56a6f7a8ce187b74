/**
 * Partition-mode reads on loopback, next to Redis GET in the same run.
 *
 * Cluster: --nodes partition-node processes (tools/partition-node.ts, lan
 * profile, replicas --replicas) on 127.0.0.1, real UDP/TCP sockets on port 0.
 * p1..p(n-1) write the keys `r:i` (--bytes-byte values) until node p0 owns
 * --lat-ops of them and does not own --lat-ops × (rounds + 1) others; the
 * run waits until every owner stores its keys. Node p0 measures, per round:
 *   - owned `get` hit: --lat-ops keys p0 owns (`ownersOf` over the node ids),
 *     each get timed alone with `process.hrtime.bigint()` (the two clock
 *     reads, ~50 ns, are included);
 *   - `fetch` miss: --lat-ops keys p0 does not own and has never read (a
 *     fresh set each round), awaited one after the other: each one is a read
 *     from an owner over TCP (checked: the fetch request counter grows by
 *     --lat-ops and every value is found);
 *   - near-cache `get` hit: `get` of the keys just fetched (checked: every
 *     one counted a near-cache hit). p0's near cache holds 2 × --lat-ops.
 * Redis: `redis-server` started by this script (tools/redis-server.ts),
 * ioredis from this process, --lat-ops sequential awaited GETs of keys SET
 * first, p50/p99 of each round trip; one Redis round before each bcache round.
 * Every figure is the median over --rounds rounds (after one warm-up round);
 * ratios are against Redis GET in the same run. Without redis-server on the
 * PATH the Redis column is skipped (exit 0).
 *
 * Usage: node dist/benchmarks/partition-reads.js [--nodes 5] [--replicas 2]
 *   [--rounds 5] [--lat-ops 10000] [--bytes 100]
 */
import { parseArgs } from 'node:util'
import type { Redis } from 'ioredis'
import { ownersOf } from '../lib/index.js'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { median } from '../tools/cache-processes.js'
import type { KeyRange } from '../tools/partition-node.js'
import { loadLine, runPartitionBenchmark, spawnPartitionCluster, waitForMembers, type PartitionProcess } from '../tools/partition-processes.js'
import { startRedis, stopRedis } from '../tools/redis-server.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    replicas: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '5' },
    'lat-ops': { type: 'string', default: '10000' },
    bytes: { type: 'string', default: '100' }
  }
})
const nNodes = Number(values.nodes), replicas = Number(values.replicas), rounds = Number(values.rounds)
const latOps = Number(values['lat-ops']), bytes = Number(values.bytes)
if (!(nNodes >= 3 && nNodes > replicas)) throw new RangeError(`--nodes must be at least 3 and more than --replicas, got ${nNodes}`)
if (!(rounds >= 1 && latOps >= 1)) throw new RangeError('--rounds and --lat-ops must be positive')

interface Lat { p50: number; p99: number }
interface GetRun extends Lat { hits: number; nearHits: number }
interface FetchRun extends Lat { found: number; requests: number }

const ids = Array.from({ length: nNodes }, (_, i) => `p${i}`)
const fmt = (x: number, d = 2): string => x.toFixed(d)

/** The key indices p0 owns (`latOps` of them) and the fresh non-owned sets, one per round (warm-up first); N = keys written. */
function chooseKeys(): { owned: string[]; fresh: string[][]; total: number } {
  const owned: string[] = [], other: string[] = []
  const needOther = latOps * (rounds + 1)
  let i = 0
  for (; owned.length < latOps || other.length < needOther; i++) {
    const key = keyOf('r', i)
    if (ownersOf(key, ids, replicas).includes('p0')) { if (owned.length < latOps) owned.push(key) } else if (other.length < needOther) other.push(key)
  }
  const fresh = Array.from({ length: rounds + 1 }, (_, r) => other.slice(r * latOps, (r + 1) * latOps))
  return { owned, fresh, total: i }
}

/** Writers p1..p(n-1) split keys 0..total-1; resolves once every owner stores its keys. */
async function load(nodes: PartitionProcess[], total: number): Promise<void> {
  const writers = nodes.slice(1), share = Math.ceil(total / writers.length)
  const ranges: KeyRange[] = writers.map((_, j) => ({ prefix: 'r', from: j * share, count: Math.max(0, Math.min(share, total - j * share)) }))
  await Promise.all(writers.map((w, j) => w.call('fill', { ranges: [ranges[j]!], bytes })))
  const held = await Promise.all(nodes.map((n) => n.call<{ owned: number; missing: number }>('awaitOwned', { ids, ranges, timeoutMs: 120_000 })))
  const missing = held.reduce((a, h) => a + h.missing, 0)
  if (missing !== 0) throw new Error(`${missing} owned keys not stored by their owners within 120 s`)
}

/** One Redis round: `latOps` sequential GETs, p50/p99 µs. */
async function redisRound(client: Redis, keys: string[]): Promise<Lat> {
  const lat: number[] = []
  for (const key of keys) {
    const t = process.hrtime.bigint()
    const v = await client.get(key)
    lat.push(Number(process.hrtime.bigint() - t) / 1000)
    if (v === null) throw new Error(`redis: ${key} missing`)
  }
  lat.sort((a, b) => a - b)
  return { p50: lat[Math.floor((lat.length - 1) * 0.5)]!, p99: lat[Math.floor((lat.length - 1) * 0.99)]! }
}

/** One bcache round on p0: owned gets, fetches of `fresh` (each from an owner), then gets of the same keys (near-cache hits). */
async function bcacheRound(p0: PartitionProcess, owned: string[], fresh: string[]): Promise<{ owned: Lat; fetch: Lat; near: Lat }> {
  const o = await p0.call<GetRun>('timeGets', { keys: owned })
  if (o.hits !== owned.length || o.nearHits !== 0) throw new Error(`owned get: ${o.hits} hits (${o.nearHits} from the near cache) of ${owned.length}`)
  const f = await p0.call<FetchRun>('timeFetches', { keys: fresh })
  if (f.found !== fresh.length || f.requests !== fresh.length) throw new Error(`fetch: ${f.found} found, ${f.requests} owner reads, of ${fresh.length}`)
  const nr = await p0.call<GetRun>('timeGets', { keys: fresh })
  if (nr.hits !== fresh.length || nr.nearHits !== fresh.length) throw new Error(`near get: ${nr.hits} hits, ${nr.nearHits} near-cache hits, of ${fresh.length}`)
  return { owned: o, fetch: f, near: nr }
}

const medianLat = (xs: Lat[]): Lat => ({ p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)) })

function report(rows: Array<[string, Lat]>, redis: Lat | undefined): void {
  const ratio = (a: number, b: number | undefined): string => (b === undefined ? 'n/a' : `${fmt(a / b, 4)}x`)
  console.log(`${'read'.padEnd(26)}${'p50 us'.padStart(10)}${'p99 us'.padStart(10)}${'p50 / redis'.padStart(14)}${'p99 / redis'.padStart(14)}`)
  for (const [name, l] of rows) {
    console.log(`${name.padEnd(26)}${fmt(l.p50, 3).padStart(10)}${fmt(l.p99, 3).padStart(10)}${ratio(l.p50, redis?.p50).padStart(14)}${ratio(l.p99, redis?.p99).padStart(14)}`)
  }
  if (redis !== undefined) console.log(`${'redis GET (ioredis)'.padEnd(26)}${fmt(redis.p50, 3).padStart(10)}${fmt(redis.p99, 3).padStart(10)}${'1x'.padStart(14)}${'1x'.padStart(14)}`)
}

async function main(): Promise<void> {
  console.log(`partition-reads: ${nNodes} processes on 127.0.0.1 (lan), replicas ${replicas}, ${latOps} samples per figure, ${bytes}-byte values, ` +
    `median of ${rounds} rounds; ${loadLine()}`)
  const { owned, fresh, total } = chooseKeys()
  const nodes = await spawnPartitionCluster(nNodes, ['--profile', 'lan', '--replicas', String(replicas), '--max-keys', String(total + 1000), '--near-keys', String(2 * latOps)])
  await waitForMembers(nodes, nNodes)
  await load(nodes, total)
  console.log(`  ${total} keys written by p1..p${nNodes - 1}, stored by their owners`)
  const client = await startRedis()
  if (client === undefined) console.log('  redis-server not found on the PATH: the Redis column is skipped')
  try {
    if (client !== undefined) for (const k of owned) await client.set(k, valueFor('r', Number(k.slice(2)), 0, bytes))
    const got = { owned: [] as Lat[], fetch: [] as Lat[], near: [] as Lat[], redis: [] as Lat[] }
    for (let r = 0; r <= rounds; r++) { // round 0 warms up
      const rd = client === undefined ? undefined : await redisRound(client, owned)
      const b = await bcacheRound(nodes[0]!, owned, fresh[r]!)
      if (r === 0) continue
      got.owned.push(b.owned); got.fetch.push(b.fetch); got.near.push(b.near)
      if (rd !== undefined) got.redis.push(rd)
      console.log(`  round ${r}: owned get p50 ${fmt(b.owned.p50, 3)} us, near get p50 ${fmt(b.near.p50, 3)} us, fetch p50 ${fmt(b.fetch.p50, 1)} p99 ${fmt(b.fetch.p99, 1)} us` +
        (rd === undefined ? '' : `; redis GET p50 ${fmt(rd.p50, 1)} p99 ${fmt(rd.p99, 1)} us`))
    }
    report([['owned get (hit)', medianLat(got.owned)], ['near-cache get (hit)', medianLat(got.near)], ['fetch (miss, from owner)', medianLat(got.fetch)]],
      client === undefined ? undefined : medianLat(got.redis))
  } finally {
    client?.disconnect()
  }
}

runPartitionBenchmark(main, stopRedis)
