/**
 * Local cache benchmark, one process, a node with no peers.
 *
 * 1. get hits: `Bcache.get` vs a raw `lru-cache` (v11) `get` vs `Map.get`
 *    on the same --keys keys (100-byte string values), random access over
 *    a pre-generated index array; the three are measured alternately for
 *    --rounds rounds of --ops operations; medians and ratios reported.
 *    The same for keys written with a TTL (an hour): Bcache against
 *    lru-cache with `ttl` (whose expiry check also reads the clock).
 * 2. set: --sets sets of fresh keys per round (100-byte values) on the
 *    same node, vs `lru-cache` set and `Map` set. With no peers the
 *    replication flush finds no target, so this is the local cost of a write
 *    (version stamp, store, delta encoding, piggyback queue).
 *
 * Usage: node dist/benchmarks/cache-local.js [--keys 100000] [--ops 4000000]
 *        [--rounds 5] [--sets 10000] [--bytes 100]
 */
import { parseArgs } from 'node:util'
import { LRUCache } from 'lru-cache'
import { Bcache } from '../lib/index.js'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { median } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '100000' },
    ops: { type: 'string', default: '4000000' },
    rounds: { type: 'string', default: '5' },
    sets: { type: 'string', default: '10000' },
    bytes: { type: 'string', default: '100' }
  }
})
const nKeys = Number(values.keys), nOps = Number(values.ops), rounds = Number(values.rounds)
const nSets = Number(values.sets), bytes = Number(values.bytes)

interface Getter { get(k: string): string | undefined }

/** One timed pass: `ops` gets at random indices; returns ns/op. The sum defeats dead-code elimination. */
function timeGets(c: Getter, keys: string[], idx: Uint32Array, ops: number, valueLen: number): number {
  let sum = 0
  const n = idx.length
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < ops; i++) {
    const v = c.get(keys[idx[i % n]!]!)
    if (v !== undefined) sum += v.length
  }
  const ns = Number(process.hrtime.bigint() - t0)
  if (sum !== ops * valueLen) throw new Error('get pass read ' + sum + ' chars, expected ' + ops * valueLen)
  return ns / ops
}

// Separate copies per implementation keep each call site monomorphic.
const timeBcache = new Function('return ' + timeGets.toString())() as typeof timeGets
const timeLru = new Function('return ' + timeGets.toString())() as typeof timeGets
const timeMap = new Function('return ' + timeGets.toString())() as typeof timeGets
const timeBcacheTtl = new Function('return ' + timeGets.toString())() as typeof timeGets
const timeLruTtl = new Function('return ' + timeGets.toString())() as typeof timeGets

interface Setter { set(k: string, v: string): unknown }
function timeSets(c: Setter, keys: string[], vals: string[]): number {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < keys.length; i++) c.set(keys[i]!, vals[i]!)
  return Number(process.hrtime.bigint() - t0) / keys.length
}

async function main(): Promise<void> {
  console.log(`cache-local: ${nKeys} keys, ${bytes}-byte string values, ${nOps} random gets per pass, ${rounds} rounds`)
  const cache = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: nKeys + rounds * nSets * 2 + nSets, profile: 'lan', statsInterval: 0 })
  try {
    const lru = new LRUCache<string, string>({ max: nKeys + rounds * nSets * 2 + nSets })
    const map = new Map<string, string>()
    const keys = Array.from({ length: nKeys }, (_, i) => keyOf('k', i))
    const vals = keys.map((_, i) => valueFor('k', i, 0, bytes))
    for (let i = 0; i < nKeys; i++) {
      cache.set(keys[i]!, vals[i]!)
      lru.set(keys[i]!, vals[i]!)
      map.set(keys[i]!, vals[i]!)
    }
    // Correctness before timing: every value reads back as written, in all three.
    for (let i = 0; i < nKeys; i++) {
      const want = vals[i]!
      if (cache.get(keys[i]!) !== want || lru.get(keys[i]!) !== want || map.get(keys[i]!) !== want) {
        throw new Error(`value of ${keys[i]} does not read back`)
      }
    }
    if (cache.stats().keys !== nKeys) throw new Error(`Bcache holds ${cache.stats().keys} keys, expected ${nKeys}`)
    console.log('  correctness: all values read back equal in Bcache, lru-cache and Map')

    const idx = new Uint32Array(1 << 20)
    let seed = 42
    for (let i = 0; i < idx.length; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0
      idx[i] = seed % nKeys
    }
    // warm-up
    timeBcache(cache, keys, idx, nOps / 4, bytes); timeLru(lru, keys, idx, nOps / 4, bytes); timeMap(map, keys, idx, nOps / 4, bytes)
    const g = { bcache: [] as number[], lru: [] as number[], map: [] as number[] }
    for (let r = 0; r < rounds; r++) {
      g.bcache.push(timeBcache(cache, keys, idx, nOps, bytes))
      g.lru.push(timeLru(lru, keys, idx, nOps, bytes))
      g.map.push(timeMap(map, keys, idx, nOps, bytes))
      console.log(`  get round ${r + 1}: Bcache ${g.bcache[r]!.toFixed(1)} ns, lru-cache ${g.lru[r]!.toFixed(1)} ns, Map ${g.map[r]!.toFixed(1)} ns; ` +
        `Bcache/lru ${(g.bcache[r]! / g.lru[r]!).toFixed(2)}x`)
    }
    const [gb, gl, gm] = [median(g.bcache), median(g.lru), median(g.map)]
    const ratios = g.bcache.map((b, i) => b / g.lru[i]!)
    console.log(`get hit (median ns/op): Bcache ${gb.toFixed(1)}, lru-cache ${gl.toFixed(1)}, Map ${gm.toFixed(1)}; ` +
      `Bcache/lru-cache ${(gb / gl).toFixed(2)}x (per-round median ${median(ratios).toFixed(2)}x; target <= 1.2x), Bcache/Map ${(gb / gm).toFixed(2)}x`)

    // get hits on keys written with a TTL
    const ttlCache = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: nKeys, profile: 'lan', statsInterval: 0 })
    try {
      const lruTtl = new LRUCache<string, string>({ max: nKeys, ttl: 3_600_000 })
      for (let i = 0; i < nKeys; i++) {
        ttlCache.set(keys[i]!, vals[i]!, { ttl: 3_600_000 })
        lruTtl.set(keys[i]!, vals[i]!)
      }
      timeBcacheTtl(ttlCache, keys, idx, nOps / 4, bytes); timeLruTtl(lruTtl, keys, idx, nOps / 4, bytes)
      const t = { bcache: [] as number[], lru: [] as number[] }
      for (let r = 0; r < rounds; r++) {
        t.bcache.push(timeBcacheTtl(ttlCache, keys, idx, nOps, bytes))
        t.lru.push(timeLruTtl(lruTtl, keys, idx, nOps, bytes))
        console.log(`  TTL get round ${r + 1}: Bcache ${t.bcache[r]!.toFixed(1)} ns, lru-cache with ttl ${t.lru[r]!.toFixed(1)} ns`)
      }
      const [tb, tl] = [median(t.bcache), median(t.lru)]
      console.log(`get hit, keys with a TTL (median ns/op): Bcache ${tb.toFixed(1)}, lru-cache with ttl ${tl.toFixed(1)}; ` +
        `Bcache/lru-cache ${(tb / tl).toFixed(2)}x (target <= 1.2x); Bcache TTL/no-TTL ${(tb / gb).toFixed(2)}x`)
    } finally {
      await ttlCache.close()
    }

    // set: fresh keys each round, so every set is an insert (as in the cluster benchmark).
    const s = { bcache: [] as number[], lru: [] as number[], map: [] as number[] }
    for (let r = -1; r < rounds; r++) { // round -1 warms up
      const sk = Array.from({ length: nSets }, (_, i) => keyOf(`s${r + 1}`, i))
      const sv = sk.map((_, i) => valueFor(`s${r + 1}`, i, 0, bytes))
      const b = timeSets(cache, sk, sv) / 1000
      await new Promise((res) => setImmediate(res)) // let the (empty) flush run
      const l = timeSets(lru, sk, sv) / 1000
      const m = timeSets(map, sk, sv) / 1000
      if (cache.get(sk[nSets - 1]!) !== sv[nSets - 1]) throw new Error('set did not read back')
      if (r < 0) continue
      s.bcache.push(b); s.lru.push(l); s.map.push(m)
      console.log(`  set round ${r + 1}: Bcache ${b.toFixed(3)} us, lru-cache ${l.toFixed(3)} us, Map ${m.toFixed(3)} us`)
    }
    const [sb, sl, sm] = [median(s.bcache), median(s.lru), median(s.map)]
    console.log(`set, no peers (median us/op over ${nSets} sets): Bcache ${sb.toFixed(3)}, lru-cache ${sl.toFixed(3)}, Map ${sm.toFixed(3)}; ` +
      `Bcache/lru-cache ${(sb / sl).toFixed(1)}x (target <= 3 us/op)`)
  } finally {
    await cache.close()
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
