/**
 * cache-node: one Bcache node in its own process, driven over IPC. Used by
 * the cache benchmarks (spawn it with `tools/cache-processes.ts`).
 *
 * Options: the shared ones (see `node-child.ts`: --listen, --join,
 * --node-id, --profile, default lan), --tuning JSON, --max-keys N,
 * --expect-keys N (a joiner: after create() resolves, wait until it holds N
 * keys and report both times in the ready message), --loss PERCENT and
 * --loss-seed N (send datagrams through a `FaultTransport` over the real
 * UDP/TCP transport that drops PERCENT % of them, drawn from a seeded random;
 * streams are untouched; the drops show in `stats().dropped['fault-loss']`).
 * The node always binds its own `UdpTcpTransport`, so `net` can report every
 * byte its sockets carried.
 *
 * Keys and values are deterministic, so any process can check them:
 * key `${prefix}:${i}`, value `valueFor` in cache-data.ts (a string of `bytes` chars).
 *
 * To the parent: {type:'ready', nodeId, address, join?} once created, then
 * {type:'reply', id, result | error} for every request {id, cmd, ...}, and
 * {type:'event', event:'fail', nodeId, at} whenever this node marks a member dead.
 * Commands: one function each below, listed in `handlers`. Timestamps are epoch ms with sub-ms
 * precision (`performance.timeOrigin + performance.now()`), comparable
 * across processes on one machine. Exits when the parent goes away.
 */
import { Bcache, type BcacheComponents, type Tuning } from '../lib/index.js'
import { FaultTransport, seededRandom, UdpTcpTransport } from '../lib/testing.js'
import { epochNow, keyOf, valueFor } from './cache-data.js'
import { runLoad, snapshot, type LoadSpec } from './bench-load.js'
import { exitWithParent, parseNodeArgs, runNode, send, serveRequests, type Handlers, type Req } from './node-child.js'

const args = parseNodeArgs({ tuning: '{}', 'max-keys': '2000000', 'expect-keys': '0', loss: '0', 'loss-seed': '1' }, 'lan')

const immediate = (): Promise<void> => new Promise((r) => setImmediate(r))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** `count` sets in one synchronous loop (keys and values prepared first). */
function setBatch(cache: Bcache<string>, r: Req): unknown {
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
}

/** Writes `count` keys, `chunk` per event-loop turn (bulk loading). */
async function fill(cache: Bcache<string>, r: Req): Promise<unknown> {
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
}

/** Resolves on the cache's next `'drain'` (or after 1 s, so a lost event cannot stall a benchmark). */
function drained(cache: Bcache<string>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      cache.off('drain', done)
      resolve()
    }
    const timer = setTimeout(done, 1000)
    cache.on('drain', done)
  })
}

/**
 * Writes keys 0..count-1 at `rate` sets/s (null: flat out, `chunk`
 * per turn, waiting for `'drain'` when `set` says replication is backed up), in 1 ms timer ticks; stops early after `seconds` if given. Returns the send time of each key if
 * `times`, and the rate achieved.
 */
async function paced(cache: Bcache<string>, r: Req): Promise<unknown> {
  const prefix = r.prefix as string, count = r.count as number, bytes = r.bytes as number
  const rate = (r.rate as number | null) ?? Infinity, tag = (r.tag as number) ?? 0, chunk = (r.chunk as number) ?? 500
  const stopAt = r.seconds === undefined ? Infinity : (r.seconds as number) * 1000
  const times = r.times === true ? new Array<number>(count) : undefined
  const t0 = epochNow()
  let i = 0
  while (i < count && epochNow() - t0 < stopAt) {
    const due = Number.isFinite(rate) ? Math.min(count, Math.floor(((epochNow() - t0) * rate) / 1000) + 1) : Math.min(count, i + chunk)
    let backedUp = false
    for (; i < due; i++) {
      backedUp = !cache.set(keyOf(prefix, i), valueFor(prefix, i, tag, bytes)) || backedUp
      if (times !== undefined) times[i] = epochNow()
    }
    if (Number.isFinite(rate)) await sleep(1)
    else if (backedUp) await drained(cache) // flat out: as fast as the slowest receiver takes it
    else await immediate()
  }
  const ms = epochNow() - t0
  return { t0, ms, written: i, rate: (i * 1000) / ms, times }
}

/**
 * Polls (setImmediate loop, or every `pollMs` ms) until keys 0..count-1 of `prefix` all exist.
 * Keeps the first unseen index and looks forward from it, stopping after
 * `window` consecutive misses, so a turn costs little. Returns when the
 * last one appeared and, if `times`, when each did.
 */
async function watch(cache: Bcache<string>, r: Req): Promise<unknown> {
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
}

/**
 * Checks every key of every writer: exists with the expected value
 * (tag). Re-checks the failures every `everyMs` until all pass or
 * `timeoutMs`; returns when they all did.
 */
async function verify(cache: Bcache<string>, r: Req): Promise<unknown> {
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
}

/** Key, byte and set counts, replication and drop counters, and the number of alive members. */
function statsOf(cache: Bcache<string>): unknown {
  const s = cache.stats()
  return { keys: s.keys, bytes: s.bytes, sets: s.sets, replication: s.replication, dropped: s.dropped, members: cache.members().filter((m) => m.state === 'alive').length }
}

/** bcache-bench: runs the workload (see bench-load.ts) as node `node`. */
function load(cache: Bcache<string>, r: Req): unknown {
  return runLoad(cache, r.spec as LoadSpec, r.node as number)
}

/** bcache-bench: packet, byte, CPU and RSS counters now. */
function snap(cache: Bcache<string>): unknown {
  return snapshot(cache)
}

/**
 * `count` writes one after the other, each awaited: `setAcked` with `acks`
 * (and `timeoutMs`), or plain `set` when `acks` is `'none'`. Returns the
 * latency of each (ms, sorted) and how many rejected, by reason.
 */
async function acked(cache: Bcache<string>, r: Req): Promise<unknown> {
  const prefix = r.prefix as string, count = r.count as number, bytes = r.bytes as number
  const acks = r.acks as 'none' | 'all' | 'majority' | number, timeoutMs = (r.timeoutMs as number) ?? 5000
  const ms: number[] = []
  const failed: Record<string, number> = {}
  for (let i = 0; i < count; i++) {
    const key = keyOf(prefix, i), value = valueFor(prefix, i, 0, bytes)
    const t0 = performance.now()
    try {
      if (acks === 'none') cache.set(key, value)
      else await cache.setAcked(key, value, { acks, timeoutMs })
    } catch (err) {
      const reason = (err as { reason?: string }).reason ?? (err as Error).name
      failed[reason] = (failed[reason] ?? 0) + 1
    }
    ms.push(performance.now() - t0)
    if (acks === 'none') await immediate() // one write per turn, as an awaited one is
  }
  return { ms: ms.sort((a, b) => a - b), failed }
}

/** Memory usage after two forced GCs (when the node runs with --expose-gc). */
function memory(cache: Bcache<string>): unknown {
  const g = (globalThis as { gc?: () => void }).gc
  if (g !== undefined) { g(); g() }
  return { ...process.memoryUsage(), gc: g !== undefined, keys: cache.stats().keys }
}

/** The commands this node answers (see the functions above). */
function handlers(cache: Bcache<string>, wire: UdpTcpTransport): Handlers {
  return {
    setBatch: (r) => setBatch(cache, r),
    fill: (r) => fill(cache, r),
    paced: (r) => paced(cache, r),
    watch: (r) => watch(cache, r),
    verify: (r) => verify(cache, r),
    stats: () => statsOf(cache),
    load: (r) => load(cache, r),
    snap: () => snap(cache),
    mem: () => memory(cache),
    net: () => net(cache, wire),
    acked: (r) => acked(cache, r)
  }
}

/** Waits (up to 120 s) until the node holds `expect` keys; the join times for the ready message. */
async function awaitKeys(cache: Bcache<string>, expect: number, t0: number): Promise<JoinTimes> {
  const created = epochNow()
  const keysAtCreate = cache.stats().keys
  const deadline = created + 120_000
  while (cache.stats().keys < expect && epochNow() < deadline) await immediate()
  return { createMs: created - t0, keysAtCreate, fullMs: cache.stats().keys >= expect ? epochNow() - t0 : undefined }
}

type JoinTimes = { createMs: number; keysAtCreate: number; fullMs: number | undefined }

/**
 * The real transport, bound to --listen (so its counters can be read: `net`),
 * behind a fault stage that drops --loss % of datagrams when --loss > 0.
 */
async function bindTransport(): Promise<{ transport: UdpTcpTransport | FaultTransport; wire: UdpTcpTransport }> {
  const percent = Number(args.get('loss'))
  if (!(percent >= 0 && percent <= 100)) throw new RangeError(`--loss must be a percentage from 0 to 100, got '${args.get('loss')}'`)
  const addr = args.base.listenAddr
  const i = addr.lastIndexOf(':')
  const wire = await UdpTcpTransport.bind({ host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1)) })
  if (percent === 0) return { transport: wire, wire }
  const transport = new FaultTransport(wire, { random: seededRandom(Number(args.get('loss-seed'))) })
  transport.setFaults({ lossRate: percent / 100 })
  return { transport, wire }
}

/**
 * Every byte this node's socket carried, by path: datagrams and TCP stream
 * bytes (length prefixes included) from the transport; the anti-entropy share
 * of the stream bytes (frame payloads) and push-pull/push counts from stats();
 * CPU and RSS.
 */
function net(cache: Bcache<string>, wire: UdpTcpTransport): unknown {
  const t = wire.stats(), s = cache.stats(), cpu = process.cpuUsage()
  return {
    at: epochNow(), packetsIn: t.packetsIn, packetsOut: t.packetsOut, packetBytesIn: t.packetBytesIn, packetBytesOut: t.packetBytesOut,
    streamBytesIn: t.streamBytesIn, streamBytesOut: t.streamBytesOut, streamsIn: t.streamsIn, streamsOut: t.streamsOut,
    aeBytesIn: s.replication.antiEntropy.bytesIn, aeBytesOut: s.replication.antiEntropy.bytesOut, aeRounds: s.replication.antiEntropy.rounds,
    pushPulls: s.membership.pushPulls, pushStreams: s.replication.pushStreams, pushBatches: s.replication.pushBatches,
    cpuMicros: cpu.user + cpu.system, rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed
  }
}

async function main(): Promise<void> {
  const expect = Number(args.get('expect-keys'))
  const t0 = epochNow()
  const { transport, wire } = await bindTransport()
  const components: BcacheComponents = { transport }
  const cache = await Bcache.create<string>({
    ...args.base,
    listenAddr: transport.address,
    maxKeys: Number(args.get('max-keys')),
    tuning: JSON.parse(args.get('tuning')) as Partial<Tuning>,
    statsInterval: 0
  }, components)
  const join = expect > 0 ? await awaitKeys(cache, expect, t0) : undefined
  serveRequests(handlers(cache, wire))
  cache.on('fail', (m) => send({ type: 'event', event: 'fail', nodeId: m.nodeId, at: epochNow() }))
  exitWithParent(() => cache.close())
  send({ type: 'ready', nodeId: cache.nodeId, address: cache.address, join })
}

runNode('cache-node', main)
