/**
 * Memory per entry: heap + array buffers per key held, against a raw
 * `lru-cache` and a `Map` holding the same keys and values, and how close
 * `maxBytes` comes to the memory really held.
 *
 * Every scenario runs in its own child process (`--expose-gc`), so one
 * scenario's garbage or code cannot blur another's figure. A scenario
 * builds its data, measures `heapUsed + arrayBuffers` after a full GC,
 * fills its cache, measures again, and divides the growth by the keys
 * held. Keys are `k:<i>`, values `--bytes`-character strings (distinct
 * strings, built before the first measurement only for the baselines; for
 * the caches they are built inside the fill loop and kept only by the
 * cache, so the figure is what the cache holds, as in an application).
 *
 * Scenarios:
 * - `lru`, `lru-ttl`, `map`: the baselines (lru-cache with `max`, with a
 *   per-entry `ttl`; a Map).
 * - `writer`, `writer-ttl`: a lone Bcache node that `set` every key.
 * - `replica`, `replica-read`: a second node that received every key from
 *   a writer in the same process over 127.0.0.1 (the writer is then
 *   closed and collected); `replica-read` after one `get` of every key.
 * - `objects`: a node with `maxBytes` set, filled with small objects far
 *   beyond it; memory held against `maxBytes`.
 *
 * Usage: node dist/benchmarks/memory.js [--keys 200000] [--bytes 100] [--rounds 5]
 *        [--scenarios lru,map,writer,...] [--max-bytes 16777216]
 */
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { LRUCache } from 'lru-cache'
import { Bcache } from '../lib/index.js'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { median } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '200000' },
    bytes: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '5' },
    scenarios: { type: 'string', default: 'lru,lru-ttl,map,writer,writer-ttl,replica,replica-read,objects' },
    'max-bytes': { type: 'string', default: String(16 * 2 ** 20) },
    scenario: { type: 'string' }
  }
})
const nKeys = Number(values.keys), bytes = Number(values.bytes), rounds = Number(values.rounds)
const maxBytes = Number(values['max-bytes'])
const TTL_MS = 3_600_000

declare const gc: () => void
function held(): number {
  gc(); gc()
  const m = process.memoryUsage()
  return m.heapUsed + m.arrayBuffers
}

const until = async (ok: () => boolean, ms: number): Promise<void> => {
  const end = Date.now() + ms
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out')
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** One scenario in this process: bytes per key held (for `objects`: memory held / maxBytes). */
async function runScenario(name: string): Promise<number> {
  const key = (i: number): string => keyOf('k', i)
  // flat strings (valueFor concatenates; a cons string would cost more than what a cache receives off the wire)
  const val = (i: number): string => Buffer.from(valueFor('k', i, 0, bytes), 'latin1').toString('latin1')
  const opts = { listenAddr: '127.0.0.1:0', peers: [], maxKeys: nKeys * 2, profile: 'lan' as const, statsInterval: 0 }
  if (name === 'lru' || name === 'lru-ttl' || name === 'map') {
    const before = held() // lru-cache reserves its arrays for `max` keys when constructed: counted
    const c = name === 'map' ? new Map<string, string>() : new LRUCache<string, string>({ max: nKeys, ...(name === 'lru-ttl' ? { ttl: TTL_MS } : {}) })
    for (let i = 0; i < nKeys; i++) c.set(key(i), val(i))
    const after = held()
    if (c.get(key(nKeys - 1)) !== val(nKeys - 1)) throw new Error('baseline does not read back')
    return (after - before) / nKeys
  }
  if (name === 'writer' || name === 'writer-ttl') {
    const cache = await Bcache.create<string>(opts)
    const before = held()
    for (let i = 0; i < nKeys; i++) cache.set(key(i), val(i), name === 'writer-ttl' ? { ttl: TTL_MS } : undefined)
    await new Promise((r) => setImmediate(r))
    const after = held()
    if (cache.get(key(nKeys - 1)) !== val(nKeys - 1) || cache.stats().keys !== nKeys) throw new Error('writer does not read back')
    await cache.close()
    return (after - before) / nKeys
  }
  if (name === 'replica' || name === 'replica-read') {
    const before = held()
    let writer: Bcache<string> | undefined = await Bcache.create<string>(opts)
    const replica = await Bcache.create<string>({ ...opts, peers: [writer.address] })
    await until(() => writer!.members().length === 2, 10_000)
    for (let i = 0; i < nKeys; i++) {
      writer.set(key(i), val(i))
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    await until(() => replica.stats().keys === nKeys, 60_000)
    await writer.close()
    writer = undefined
    await new Promise((r) => setTimeout(r, Number(process.env.SETTLE_MS ?? 0)))
    if (name === 'replica-read') {
      for (let i = 0; i < nKeys; i++) if (replica.get(key(i)) !== val(i)) throw new Error(`replica reads ${key(i)} wrong`)
    }
    const after = held()
    await replica.close()
    return (after - before) / nKeys
  }
  if (name === 'objects') {
    const cache = await Bcache.create<unknown>({ ...opts, maxBytes })
    const before = held()
    for (let i = 0; i < nKeys; i++) {
      cache.set(key(i), { id: i, name: `user-${i}`, score: i * 1.5, tags: ['a', 'b'], active: i % 2 === 0 })
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r))
    }
    for (let i = 0; i < nKeys; i++) cache.get(key(i)) // every value decoded once
    const after = held()
    await cache.close()
    return (after - before) / maxBytes
  }
  throw new Error(`unknown scenario ${name}`)
}

function inChild(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), '--scenario', name], {
      execArgv: ['--expose-gc', '--max-old-space-size=8192'], stdio: ['ignore', 'pipe', 'inherit', 'ipc']
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    child.on('error', reject)
    child.on('exit', (code) => {
      const m = /^result (\S+)$/m.exec(out)
      if (code === 0 && m !== null) resolve(Number(m[1]))
      else reject(new Error(`scenario ${name} exited ${code}: ${out}`))
    })
  })
}

async function main(): Promise<void> {
  if (values.scenario !== undefined) {
    console.log(`result ${await runScenario(values.scenario)}`)
    return
  }
  const names = values.scenarios!.split(',')
  console.log(`memory: ${nKeys} keys, ${bytes}-character string values, ${rounds} rounds per scenario (median), load average ${(await import('node:os')).loadavg().map((l) => l.toFixed(2)).join(' ')}`)
  const res = new Map<string, number>()
  for (const name of names) {
    const runs: number[] = []
    for (let r = 0; r < rounds; r++) runs.push(await inChild(name))
    res.set(name, median(runs))
    const unit = name === 'objects' ? `× maxBytes (${maxBytes} B) held` : 'B per key'
    console.log(`  ${name}: ${median(runs).toFixed(name === 'objects' ? 2 : 0)} ${unit} (runs ${runs.map((x) => x.toFixed(name === 'objects' ? 2 : 0)).join(', ')})`)
  }
  const lru = res.get('lru'), lruTtl = res.get('lru-ttl')
  for (const [name, v] of res) {
    if (name === 'objects' || name.startsWith('lru') || name === 'map') continue
    const base = name === 'writer-ttl' ? lruTtl : lru
    if (base !== undefined) console.log(`  ${name} / ${name === 'writer-ttl' ? 'lru-ttl' : 'lru'}: ${(v / base).toFixed(2)}x (target <= 1.25x)`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
