/**
 * cache-node: one Bcache node in its own process, driven over IPC. Used by
 * the cache benchmarks (spawn it with `tools/cache-processes.ts`).
 *
 * Options: --listen host:port (default 127.0.0.1:0), --join a,b,
 * --node-id ID, --profile lan|local|wan, --tuning JSON, --max-keys N,
 * --expect-keys N (a joiner: after create() resolves, wait until it holds N
 * keys and report both times in the ready message).
 *
 * Keys and values are deterministic, so any process can check them:
 * key `${prefix}:${i}`, value `valueFor` in cache-data.ts (a string of `bytes` chars).
 *
 * To the parent: {type:'ready', nodeId, address, join?} once created, then
 * {type:'reply', id, result | error} for every request {id, cmd, ...}, and
 * {type:'event', event:'fail', nodeId, at} whenever this node marks a member dead.
 * Commands: see `handlers` below. Timestamps are epoch ms with sub-ms
 * precision (`performance.timeOrigin + performance.now()`), comparable
 * across processes on one machine. Exits when the parent goes away.
 */
import { parseArgs } from 'node:util'
import { Bcache, type ProfileName, type Tuning } from '../lib/index.js'
import { epochNow, keyOf, valueFor } from './cache-data.js'
import { runLoad, snapshot, type LoadSpec } from './bench-load.js'

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '127.0.0.1:0' },
    join: { type: 'string', default: '' },
    'node-id': { type: 'string' },
    profile: { type: 'string', default: 'lan' },
    tuning: { type: 'string', default: '{}' },
    'max-keys': { type: 'string', default: '2000000' },
    'expect-keys': { type: 'string', default: '0' }
  }
})

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function send(msg: unknown): void {
  if (process.send !== undefined && process.connected) process.send(msg)
}

type Req = { id: number; cmd: string } & Record<string, unknown>

function handlers(cache: Bcache<string>): Record<string, (r: Req) => Promise<unknown> | unknown> {
  return {
    /** `count` sets in one synchronous loop (keys and values prepared first). */
    setBatch(r) {
      const prefix = r.prefix as string, count = r.count as number, bytes = r.bytes as number, tag = (r.tag as number) ?? 0
      const keys = Array.from({ length: count }, (_, i) => keyOf(prefix, i))
      const vals = Array.from({ length: count }, (_, i) => valueFor(prefix, i, tag, bytes))
      return new Promise((resolve) => {
        const t0 = epochNow()
        for (let i = 0; i < count; i++) cache.set(keys[i]!, vals[i]!)
        const t1 = epochNow()
        // The replicator's flush was deferred during the first set; this runs after it.
        setImmediate(() => resolve({ t0, loopMs: t1 - t0, flushedMs: epochNow() - t0 }))
      })
    },
    /** Writes `count` keys, `chunk` per event-loop turn (bulk loading). */
    async fill(r) {
      const prefix = r.prefix as string, count = r.count as number, bytes = r.bytes as number
      const chunk = (r.chunk as number) ?? 1000, pauseMs = (r.pauseMs as number) ?? 0
      const t0 = epochNow()
      for (let i = 0; i < count;) {
        const end = Math.min(count, i + chunk)
        for (; i < end; i++) cache.set(keyOf(prefix, i), valueFor(prefix, i, 0, bytes))
        if (pauseMs > 0) await sleep(pauseMs)
        else await immediate()
      }
      return { ms: epochNow() - t0 }
    },
    /**
     * Writes keys 0..count-1 at `rate` sets/s (null: flat out, `chunk`
     * per turn), in 1 ms timer ticks; stops early after `seconds` if given. Returns the send time of each key if
     * `times`, and the rate achieved.
     */
    async paced(r) {
      const prefix = r.prefix as string, count = r.count as number, bytes = r.bytes as number
      const rate = (r.rate as number | null) ?? Infinity, tag = (r.tag as number) ?? 0, chunk = (r.chunk as number) ?? 500
      const stopAt = r.seconds === undefined ? Infinity : (r.seconds as number) * 1000
      const times = r.times === true ? new Array<number>(count) : undefined
      const t0 = epochNow()
      let i = 0
      while (i < count && epochNow() - t0 < stopAt) {
        const due = Number.isFinite(rate) ? Math.min(count, Math.floor(((epochNow() - t0) * rate) / 1000) + 1) : Math.min(count, i + chunk)
        for (; i < due; i++) {
          cache.set(keyOf(prefix, i), valueFor(prefix, i, tag, bytes))
          if (times !== undefined) times[i] = epochNow()
        }
        if (Number.isFinite(rate)) await sleep(1)
        else await immediate()
      }
      const ms = epochNow() - t0
      return { t0, ms, written: i, rate: (i * 1000) / ms, times }
    },
    /**
     * Polls (setImmediate loop, or every `pollMs` ms) until keys 0..count-1 of `prefix` all exist.
     * Keeps the first unseen index and looks forward from it, stopping after
     * `window` consecutive misses, so a turn costs little. Returns when the
     * last one appeared and, if `times`, when each did.
     */
    async watch(r) {
      const prefix = r.prefix as string, count = r.count as number, timeoutMs = (r.timeoutMs as number) ?? 30_000
      const window = (r.window as number) ?? 256, pollMs = (r.pollMs as number) ?? 0
      const keys = Array.from({ length: count }, (_, i) => keyOf(prefix, i))
      const at = new Float64Array(count)
      let next = 0
      let seen = 0
      const deadline = epochNow() + timeoutMs
      let turns = 0
      while (seen < count && epochNow() < deadline) {
        turns++
        const now = epochNow()
        let misses = 0
        for (let i = next; i < count && misses < window; i++) {
          if (at[i] !== 0) continue
          if (cache.has(keys[i]!)) {
            at[i] = now
            seen++
            misses = 0
          } else {
            misses++
          }
        }
        while (next < count && at[next] !== 0) next++
        // The forward window can miss keys far ahead of a gap; rescan rarely.
        if (seen < count && turns % (pollMs > 0 ? 100 : 1000) === 0) {
          for (let i = next; i < count; i++) if (at[i] === 0 && cache.has(keys[i]!)) { at[i] = epochNow(); seen++ }
        }
        if (pollMs > 0) await sleep(pollMs)
        else await immediate()
      }
      let last = 0
      for (let i = 0; i < count; i++) if (at[i]! > last) last = at[i]!
      return { seen, count, lastAt: last, turns, times: r.times === true ? Array.from(at) : undefined }
    },
    /**
     * Checks every key of every writer: exists with the expected value
     * (tag). Re-checks the failures every `everyMs` until all pass or
     * `timeoutMs`; returns when they all did.
     */
    async verify(r) {
      const writers = r.writers as Array<{ prefix: string; count: number }>
      const bytes = r.bytes as number, tag = (r.tag as number) ?? 0
      const timeoutMs = (r.timeoutMs as number) ?? 10_000, everyMs = (r.everyMs as number) ?? 50
      let todo: Array<[string, number]> = []
      for (const w of writers) for (let i = 0; i < w.count; i++) todo.push([w.prefix, i])
      const total = todo.length
      const deadline = epochNow() + timeoutMs
      let passes = 0
      for (;;) {
        passes++
        todo = todo.filter(([p, i]) => cache.get(keyOf(p, i)) !== valueFor(p, i, tag, bytes))
        if (todo.length === 0 || epochNow() >= deadline) break
        await sleep(everyMs)
      }
      return { total, missing: todo.length, doneAt: epochNow(), passes, sampleMissing: todo.slice(0, 5).map(([p, i]) => keyOf(p, i)) }
    },
    stats() {
      const s = cache.stats()
      return { keys: s.keys, bytes: s.bytes, sets: s.sets, replication: s.replication, dropped: s.dropped, members: cache.members().filter((m) => m.state === 'alive').length }
    },
    /** bcache-bench: runs the workload (see bench-load.ts) as node `node`. */
    load(r) {
      return runLoad(cache, r.spec as LoadSpec, r.node as number)
    },
    /** bcache-bench: packet, byte, CPU and RSS counters now. */
    snap() {
      return snapshot(cache)
    },
    mem() {
      const g = (globalThis as { gc?: () => void }).gc
      if (g !== undefined) { g(); g() }
      return { ...process.memoryUsage(), gc: g !== undefined, keys: cache.stats().keys }
    }
  }
}

async function main(): Promise<void> {
  const expect = Number(values['expect-keys'])
  const t0 = epochNow()
  const cache = await Bcache.create<string>({
    listenAddr: values.listen!,
    peers: values.join!.split(',').filter((s) => s.length > 0),
    ...(values['node-id'] !== undefined ? { nodeId: values['node-id'] } : {}),
    maxKeys: Number(values['max-keys']),
    profile: values.profile as ProfileName,
    tuning: JSON.parse(values.tuning!) as Partial<Tuning>,
    statsInterval: 0
  })
  const created = epochNow()
  let join: { createMs: number; keysAtCreate: number; fullMs: number | undefined } | undefined
  if (expect > 0) {
    const keysAtCreate = cache.stats().keys
    const deadline = created + 120_000
    while (cache.stats().keys < expect && epochNow() < deadline) await immediate()
    join = { createMs: created - t0, keysAtCreate, fullMs: cache.stats().keys >= expect ? epochNow() - t0 : undefined }
  }
  const h = handlers(cache)
  process.on('message', (msg: Req) => {
    const fn = h[msg.cmd]
    if (fn === undefined) return send({ type: 'reply', id: msg.id, error: `unknown command ${msg.cmd}` })
    Promise.resolve()
      .then(() => fn(msg))
      .then((result) => send({ type: 'reply', id: msg.id, result }), (err: unknown) => send({ type: 'reply', id: msg.id, error: String(err) }))
  })
  cache.on('fail', (m) => send({ type: 'event', event: 'fail', nodeId: m.nodeId, at: epochNow() }))
  process.on('disconnect', () => void cache.close().finally(() => process.exit(0)))
  process.on('SIGTERM', () => void cache.close().finally(() => process.exit(0)))
  send({ type: 'ready', nodeId: cache.nodeId, address: cache.address, join })
}

main().catch((err: unknown) => {
  console.error(`cache-node: ${String(err)}`)
  process.exit(1)
})
