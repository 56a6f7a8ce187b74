/**
 * The scale promises, with real processes: for each N in --sizes, N
 * cache-node processes (tools/cache-node.ts, lan profile) on 127.0.0.1.
 *
 * 1. idle: once every node sees N alive members and --settle-s passed,
 *    datagrams and bytes (UDP + TCP streams, every byte the node's transport
 *    carried; see `net` in cache-node.ts) sent and received per node per
 *    second over --idle-s.
 * 2. load: --rate writes/s cluster-wide, spread evenly over the nodes
 *    (rate/N sets/s each, 100-byte values) for --load-s; the same per-node
 *    figures over the load window, then a check that every node holds every
 *    write (within 20 s).
 * 3. memory: RSS and heap of every process after two forced GCs.
 * 4. failure detection (N in --detect): SIGKILL one node; the time until
 *    every survivor has marked it dead (its `fail` event).
 *
 * Per-node figures are the mean over the nodes (min–max in brackets); the
 * summary gives, per figure, the largest over the smallest across sizes (the
 * issue's target: flat within 1.2× from 5 to 50 nodes). Counts are valid on a
 * busy machine; detection times are not (a starved process answers late).
 *
 * Usage: node dist/benchmarks/scale-processes.js [--sizes 5,10,20,50]
 *   [--detect 10,50] [--idle-s 20] [--load-s 10] [--rate 1000] [--settle-s 5]
 */
import { parseArgs } from 'node:util'

import { killAllCaches, runBenchmark, sleep, spawnCacheNode, waitForCacheMembers, type CacheProcess } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '5,10,20,50' },
    detect: { type: 'string', default: '10,50' },
    'idle-s': { type: 'string', default: '20' },
    'load-s': { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    'settle-s': { type: 'string', default: '5' },
    bytes: { type: 'string', default: '100' },
    'spawn-batch': { type: 'string', default: '10' },
    profile: { type: 'string', default: 'lan' }
  }
})
const sizes = values.sizes!.split(',').map(Number), detectAt = new Set(values.detect!.split(',').map(Number))
const bytes = Number(values.bytes), rate = Number(values.rate)

interface NetSnap { at: number; packetsIn: number; packetsOut: number; packetBytesIn: number; packetBytesOut: number; streamBytesIn: number; streamBytesOut: number }
interface Mem { rss: number; heapUsed: number }
/** Per-node rates over a window: datagrams and bytes (UDP + TCP), in and out, per second. */
interface Rates { pktIn: number; pktOut: number; bytesIn: number; bytesOut: number; streamIn: number }
type Spread = { mean: number; min: number; max: number }
interface SizeResult { n: number; idle: Record<keyof Rates, Spread>; load: Record<keyof Rates, Spread>; rssMiB: Spread; heapMiB: Spread; detectMs?: number; missing: number }

const fmt = (x: number, d = 1): string => x.toFixed(d)
const spread = (xs: number[]): Spread => ({ mean: xs.reduce((a, b) => a + b, 0) / xs.length, min: Math.min(...xs), max: Math.max(...xs) })
const show = (s: Spread, d = 1): string => `${fmt(s.mean, d)} [${fmt(s.min, d)}–${fmt(s.max, d)}]`

/** Starts node 0, then the others in batches of --spawn-batch, each joining node 0. */
async function startNodes(n: number): Promise<CacheProcess[]> {
  const args = (i: number, join?: string): string[] =>
    ['--node-id', `c${i}`, '--profile', values.profile!, ...(join !== undefined ? ['--join', join] : [])]
  const execArgv = ['--expose-gc', '--enable-source-maps']
  const first = await spawnCacheNode(args(0), 150_000, execArgv)
  const nodes = [first]
  const batch = Number(values['spawn-batch'])
  for (let i = 1; i < n; i += batch) {
    const ids = Array.from({ length: Math.min(batch, n - i) }, (_, k) => i + k)
    nodes.push(...await Promise.all(ids.map((id) => spawnCacheNode(args(id, first.address), 150_000, execArgv))))
  }
  return nodes
}

const snapAll = (nodes: CacheProcess[]): Promise<NetSnap[]> => Promise.all(nodes.map((x) => x.call<NetSnap>('net')))

/** Per-node rates between two snapshot sets, spread over the nodes. */
function rates(a: NetSnap[], b: NetSnap[]): Record<keyof Rates, Spread> {
  const per = a.map((x, i) => {
    const y = b[i]!, s = (y.at - x.at) / 1000
    return {
      pktIn: (y.packetsIn - x.packetsIn) / s, pktOut: (y.packetsOut - x.packetsOut) / s,
      bytesIn: (y.packetBytesIn - x.packetBytesIn + y.streamBytesIn - x.streamBytesIn) / s,
      bytesOut: (y.packetBytesOut - x.packetBytesOut + y.streamBytesOut - x.streamBytesOut) / s,
      streamIn: (y.streamBytesIn - x.streamBytesIn) / s
    }
  })
  const keys: Array<keyof Rates> = ['pktIn', 'pktOut', 'bytesIn', 'bytesOut', 'streamIn']
  return Object.fromEntries(keys.map((k) => [k, spread(per.map((p) => p[k]))])) as Record<keyof Rates, Spread>
}

function describe(label: string, r: Record<keyof Rates, Spread>): string {
  return `  ${label}: per node datagrams in/s ${show(r.pktIn)}, out/s ${show(r.pktOut)}; bytes in/s ${show(r.bytesIn, 0)}, out/s ${show(r.bytesOut, 0)} (of which TCP in/s ${show(r.streamIn, 0)})`
}

/** --rate writes/s spread over the nodes for --load-s; the rates over that window, and keys not everywhere after 20 s. */
async function load(nodes: CacheProcess[]): Promise<{ r: Record<keyof Rates, Spread>; missing: number }> {
  const perNode = rate / nodes.length, seconds = Number(values['load-s']), count = Math.round(perNode * seconds)
  const a = await snapAll(nodes)
  const ps = await Promise.all(nodes.map((x, i) => x.call<{ written: number }>('paced', { prefix: `s${i}`, count, bytes, rate: perNode })))
  const b = await snapAll(nodes)
  const writers = ps.map((p, i) => ({ prefix: `s${i}`, count: p.written }))
  const vs = await Promise.all(nodes.map((x) => x.call<{ missing: number }>('verify', { writers, bytes, timeoutMs: 20_000, everyMs: 200 })))
  return { r: rates(a, b), missing: vs.reduce((s, v) => s + v.missing, 0) }
}

/** SIGKILLs one node; ms until every survivor marked it dead (NaN: not within 60 s). */
async function detect(nodes: CacheProcess[]): Promise<number> {
  const victim = nodes[nodes.length - 1]!, survivors = nodes.slice(0, -1)
  const killedAt = performance.timeOrigin + performance.now()
  victim.child.kill('SIGKILL')
  const failAt = (s: CacheProcess): number | undefined => s.fails.find((f) => f.nodeId === victim.nodeId && f.at >= killedAt)?.at
  const deadline = Date.now() + 60_000
  while (Date.now() < deadline && !survivors.every((s) => failAt(s) !== undefined)) await sleep(50)
  const times = survivors.map(failAt)
  return times.some((t) => t === undefined) ? NaN : Math.max(...(times as number[])) - killedAt
}

async function runSize(n: number): Promise<SizeResult> {
  const t0 = Date.now()
  const nodes = await startNodes(n)
  try {
    await waitForCacheMembers(nodes, n, 120_000)
    console.log(`N=${n}: cluster formed ${fmt((Date.now() - t0) / 1000)} s after the first spawn`)
    await sleep(Number(values['settle-s']) * 1000)
    const a = await snapAll(nodes)
    await sleep(Number(values['idle-s']) * 1000)
    const idle = rates(a, await snapAll(nodes))
    console.log(describe(`idle ${values['idle-s']} s`, idle))
    const l = await load(nodes)
    console.log(describe(`${rate} writes/s for ${values['load-s']} s`, l.r) + `; writes missing somewhere after 20 s: ${l.missing}`)
    const mem = await Promise.all(nodes.map((x) => x.call<Mem>('mem')))
    const rssMiB = spread(mem.map((m) => m.rss / 2 ** 20)), heapMiB = spread(mem.map((m) => m.heapUsed / 2 ** 20))
    console.log(`  memory after GC: RSS MiB ${show(rssMiB)}, heap used MiB ${show(heapMiB)}; total RSS ${fmt(rssMiB.mean * n / 1024, 2)} GiB`)
    const result: SizeResult = { n, idle, load: l.r, rssMiB, heapMiB, missing: l.missing }
    if (detectAt.has(n)) {
      result.detectMs = await detect(nodes)
      console.log(`  failure detection: every one of ${n - 1} survivors marked the SIGKILLed node dead after ${fmt(result.detectMs / 1000, 2)} s`)
    }
    return result
  } finally {
    await killAllCaches()
  }
}

function summary(rs: SizeResult[]): void {
  console.log('\n| N | idle dgram in/s | idle dgram out/s | idle B in/s | idle B out/s | 1k/s dgram in/s | 1k/s dgram out/s | 1k/s B in/s | 1k/s B out/s | RSS MiB | detect s |')
  console.log('|---|---|---|---|---|---|---|---|---|---|---|')
  for (const r of rs) {
    console.log(`| ${r.n} | ${fmt(r.idle.pktIn.mean)} | ${fmt(r.idle.pktOut.mean)} | ${fmt(r.idle.bytesIn.mean, 0)} | ${fmt(r.idle.bytesOut.mean, 0)} | ` +
      `${fmt(r.load.pktIn.mean)} | ${fmt(r.load.pktOut.mean)} | ${fmt(r.load.bytesIn.mean, 0)} | ${fmt(r.load.bytesOut.mean, 0)} | ` +
      `${fmt(r.rssMiB.mean)} | ${r.detectMs === undefined ? '' : fmt(r.detectMs / 1000, 2)} |`)
  }
  const flat = (f: (r: SizeResult) => number): string => fmt(Math.max(...rs.map(f)) / Math.min(...rs.map(f)), 2)
  console.log(`largest/smallest over N=${rs.map((r) => r.n).join(',')} (target <= 1.2): ` +
    `idle datagrams in ${flat((r) => r.idle.pktIn.mean)}, out ${flat((r) => r.idle.pktOut.mean)}, bytes in ${flat((r) => r.idle.bytesIn.mean)}, out ${flat((r) => r.idle.bytesOut.mean)}; ` +
    `at ${rate}/s datagrams in ${flat((r) => r.load.pktIn.mean)}, out ${flat((r) => r.load.pktOut.mean)}, bytes in ${flat((r) => r.load.bytesIn.mean)}, out ${flat((r) => r.load.bytesOut.mean)}`)
}

async function main(): Promise<void> {
  console.log(`scale-processes: N = ${sizes.join(', ')} cache-node processes on 127.0.0.1, profile ${values.profile}; ` +
    `idle ${values['idle-s']} s, then ${rate} writes/s cluster-wide for ${values['load-s']} s`)
  const results: SizeResult[] = []
  for (const n of sizes) results.push(await runSize(n))
  summary(results)
}

runBenchmark(main)
