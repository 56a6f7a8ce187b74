/**
 * One bcache-bench run: start the nodes with one tuning combination, run the
 * workload on all of them at once (bench-load.ts), turn what they report
 * into lag percentiles and per-node costs, optionally SIGKILL one node and
 * time its detection, and stop every node. With `--loss P` every node sends
 * its datagrams through a `FaultTransport` that drops P % of them (seeded per
 * node), in child processes (cache-node.ts `--loss`) and in-process alike;
 * TCP streams (anti-entropy, push-pull) are never lossy.
 */
import { Bcache, type Tuning } from '../lib/index.js'
import { FaultTransport, seededRandom, UdpTcpTransport } from '../lib/testing.js'
import type { BenchConfig } from './bench-args.js'
import { runLoad, snapshot, type LoadResult, type LoadSpec, type NodeSnapshot } from './bench-load.js'
import { mean, percentiles, type Percentiles } from './bench-stats.js'
import { epochNow } from './cache-data.js'
import { killAllCaches, spawnCacheNode } from './cache-processes.js'

/** A node the run drives: a child process or an in-process Bcache. */
interface BenchNode {
  nodeId: string
  address: string
  fails: Array<{ nodeId: string; at: number }>
  load(spec: LoadSpec, node: number, timeoutMs: number): Promise<LoadResult>
  snap(): Promise<NodeSnapshot>
  /** SIGKILL (child processes only). */
  kill(): void
  stop(): Promise<void>
}

export interface NodeFigures {
  nodeId: string
  packetsInPerSec: number
  packetsOutPerSec: number
  bytesInPerSec: number
  bytesOutPerSec: number
  /** Every byte received (datagrams and streams) over the run per payload byte written by the other nodes. */
  bytesInPerPayloadByte: number
  cpuPercent: number
  rssMiB: number
  /** Datagrams this node's `--loss` stage dropped per second (0 without loss). */
  lostPerSec: number
}

export interface RunReport {
  label: string
  tuning: Partial<Tuning>
  mode: BenchConfig['mode']
  nodes: number
  writers: number
  /** Datagram loss injected on every node's sends, percent. */
  lossPercent: number
  /** Set → visible on another node, ms, over every (timed write, other node) pair. */
  lagMs: Percentiles
  /** (write, node) pairs never seen before the convergence timeout. */
  missing: number
  /** From the last write until every node had every timed write, ms; null if some never did. */
  convergeMs: number | null
  writesPerSec: number
  /** Averages over the nodes of the per-node figures. */
  avg: Omit<NodeFigures, 'nodeId'>
  perNode: NodeFigures[]
  /** From SIGKILL until every survivor marked the victim dead, ms (with --kill; null: not within 60 s). */
  detectMs?: number | null
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const inProcess = new Set<Bcache<string>>()

/** Stops whatever nodes are still running (child processes and in-process caches). */
export async function stopEverything(): Promise<void> {
  const caches = [...inProcess]
  inProcess.clear()
  await Promise.all([killAllCaches(), ...caches.map((c) => c.close().catch(() => {}))])
}

async function childNode(args: string[]): Promise<BenchNode> {
  const p = await spawnCacheNode(args, 30_000, ['--enable-source-maps'])
  return {
    nodeId: p.nodeId, address: p.address, fails: p.fails,
    load: (spec, node, timeoutMs) => p.call<LoadResult>('load', { spec, node }, timeoutMs),
    snap: () => p.call<NodeSnapshot>('snap'),
    kill: () => { p.child.kill('SIGKILL') },
    stop: async () => { p.child.kill('SIGKILL'); await p.exited }
  }
}

/** A seed for node `i`'s loss draws: the workload seed, spread per node. */
export const lossSeed = (seed: number, i: number): number => (seed * 7919 + i * 104_729) % 2 ** 31

async function localNode(cfg: BenchConfig, i: number, peers: string[], tuning: Partial<Tuning>): Promise<BenchNode> {
  const id = `b${process.pid}-${i}`
  const opts = { peers, nodeId: id, maxKeys: 2_000_000, profile: cfg.profile, tuning, statsInterval: 0 }
  let cache: Bcache<string>
  if (cfg.lossPercent > 0) {
    const transport = new FaultTransport(await UdpTcpTransport.bind({ host: '127.0.0.1', port: 0 }), { random: seededRandom(lossSeed(cfg.seed, i)) })
    transport.setFaults({ lossRate: cfg.lossPercent / 100 })
    cache = await Bcache.create<string>({ ...opts, listenAddr: transport.address }, { transport })
  } else {
    cache = await Bcache.create<string>({ ...opts, listenAddr: '127.0.0.1:0' })
  }
  inProcess.add(cache)
  const fails: BenchNode['fails'] = []
  cache.on('fail', (m) => fails.push({ nodeId: m.nodeId, at: epochNow() }))
  return {
    nodeId: cache.nodeId, address: cache.address, fails,
    load: (spec, node) => runLoad(cache, spec, node),
    snap: () => Promise.resolve(snapshot(cache)),
    kill: () => { throw new Error('--kill needs child processes') },
    stop: async () => { inProcess.delete(cache); await cache.close() }
  }
}

async function startNodes(cfg: BenchConfig, tuning: Partial<Tuning>): Promise<BenchNode[]> {
  const argsFor = (i: number, join: string): string[] =>
    ['--node-id', `b${process.pid}-${i}`, '--profile', cfg.profile, '--tuning', JSON.stringify(tuning), ...(join === '' ? [] : ['--join', join]),
      ...(cfg.lossPercent > 0 ? ['--loss', String(cfg.lossPercent), '--loss-seed', String(lossSeed(cfg.seed, i))] : [])]
  if (cfg.mode === 'join') {
    // Sequential, so the observer joins once the writer is in.
    const writer = await childNode(argsFor(0, cfg.join!))
    return [writer, await childNode(argsFor(1, cfg.join!))]
  }
  const n = cfg.nodes[0]!
  const make = (i: number, join: string): Promise<BenchNode> =>
    cfg.mode === 'in-process' ? localNode(cfg, i, join === '' ? [] : [join], tuning) : childNode(argsFor(i, join))
  const first = await make(0, '')
  const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => make(i + 1, first.address)))
  return [first, ...rest]
}

async function waitForMembers(nodes: BenchNode[], atLeast: number): Promise<void> {
  const deadline = Date.now() + 30_000
  for (;;) {
    const snaps = await Promise.all(nodes.map((n) => n.snap()))
    if (snaps.every((s) => s.members >= atLeast)) return
    if (Date.now() > deadline) throw new Error(`nodes did not all see ${atLeast} alive members within 30 s`)
    await sleep(50)
  }
}

const perSec = (a: number, b: number, ms: number): number => ((b - a) * 1000) / ms

/** Turns the nodes' load results into one report (pure; exported for tests). */
export function summarize(results: LoadResult[], nodeIds: string[], base: Pick<RunReport, 'label' | 'tuning' | 'mode' | 'nodes' | 'writers' | 'lossPercent'>): RunReport {
  const lags: number[] = []
  let missing = 0, converged = true, lastSeen = 0, lastWrite = 0, writesPerSec = 0
  const writers = results.filter((r) => r.node < base.writers)
  for (const w of writers) {
    lastWrite = Math.max(lastWrite, w.endAt)
    const t0 = w.start.at
    if (w.written > 0) writesPerSec += (w.written * 1000) / Math.max(1, w.endAt - t0)
  }
  for (const r of results) {
    converged &&= r.converged
    lastSeen = Math.max(lastSeen, r.lastSeenAt)
    for (const w of writers) {
      if (w.node === r.node) continue
      const seen = r.seenAt[w.node]!
      for (let s = 0; s < seen.length; s++) {
        if (seen[s]! > 0 && !Number.isNaN(w.setAt[s]!)) lags.push(Math.max(0, seen[s]! - w.setAt[s]!))
        else if (seen[s] === 0) missing++
      }
    }
  }
  const perNode = results.map((r, i): NodeFigures => {
    const ms = Math.max(1, r.end.at - r.start.at)
    const others = writers.reduce((sum, w) => sum + (w.node === r.node ? 0 : w.payloadBytes), 0)
    const received = r.done.bytesIn - r.start.bytesIn
    return {
      nodeId: nodeIds[i] ?? `b${r.node}`,
      packetsInPerSec: perSec(r.start.packetsIn, r.end.packetsIn, ms),
      packetsOutPerSec: perSec(r.start.packetsOut, r.end.packetsOut, ms),
      bytesInPerSec: perSec(r.start.bytesIn, r.end.bytesIn, ms),
      bytesOutPerSec: perSec(r.start.bytesOut, r.end.bytesOut, ms),
      bytesInPerPayloadByte: others > 0 ? received / others : NaN,
      cpuPercent: ((r.end.cpuMicros - r.start.cpuMicros) / 1000 / ms) * 100,
      rssMiB: r.end.rss / 2 ** 20,
      lostPerSec: perSec(r.start.lost, r.end.lost, ms)
    }
  })
  const avgOf = (k: keyof Omit<NodeFigures, 'nodeId'>): number => mean(perNode.map((p) => p[k]).filter((x) => !Number.isNaN(x)))
  return {
    ...base,
    lagMs: percentiles(lags),
    missing,
    convergeMs: converged ? Math.max(0, lastSeen - lastWrite) : null,
    writesPerSec,
    avg: {
      packetsInPerSec: avgOf('packetsInPerSec'), packetsOutPerSec: avgOf('packetsOutPerSec'),
      bytesInPerSec: avgOf('bytesInPerSec'), bytesOutPerSec: avgOf('bytesOutPerSec'),
      bytesInPerPayloadByte: avgOf('bytesInPerPayloadByte'), cpuPercent: avgOf('cpuPercent'), rssMiB: avgOf('rssMiB'),
      lostPerSec: avgOf('lostPerSec')
    },
    perNode
  }
}

/** Runs one tuning combination end to end; `progress` gets short status strings. */
export async function runOne(cfg: BenchConfig, tuning: Partial<Tuning>, label: string, progress: (s: string) => void): Promise<RunReport> {
  progress('starting nodes')
  const nodes = await startNodes(cfg, tuning)
  try {
    await waitForMembers(nodes, cfg.mode === 'join' ? 3 : nodes.length)
    const n = nodes.length
    const writers = cfg.mode === 'join' ? 1 : cfg.writers ?? n
    const spec: LoadSpec = {
      startAt: epochNow() + 300,
      seconds: cfg.durationSeconds,
      ratePerWriter: cfg.rate / writers,
      readRate: cfg.rate * cfg.readsPerWrite,
      writers,
      keys: cfg.keys,
      distribution: cfg.distribution,
      valueBytes: cfg.valueBytes,
      ttlShare: cfg.ttlSharePercent / 100,
      ttlMs: cfg.ttlSeconds * 1000,
      deleteShare: cfg.deleteSharePercent / 100,
      seed: cfg.seed,
      convergeTimeoutMs: cfg.convergeTimeoutSeconds * 1000
    }
    const timeoutMs = (cfg.durationSeconds + cfg.convergeTimeoutSeconds) * 1000 + 60_000
    const t0 = Date.now()
    const ticker = setInterval(() => {
      const s = (Date.now() - t0) / 1000 - 0.3
      progress(s < cfg.durationSeconds ? `load ${Math.max(0, s).toFixed(1)}/${cfg.durationSeconds} s` : `converging ${(s - cfg.durationSeconds).toFixed(1)} s`)
    }, 250)
    let results: LoadResult[]
    try {
      results = await Promise.all(nodes.map((node, i) => node.load(spec, i, timeoutMs)))
    } finally {
      clearInterval(ticker)
    }
    const report = summarize(results, nodes.map((x) => x.nodeId), { label, tuning, mode: cfg.mode, nodes: n, writers, lossPercent: cfg.lossPercent })
    if (cfg.kill) report.detectMs = await timeKill(nodes, progress)
    return report
  } finally {
    progress('stopping nodes')
    await Promise.all(nodes.map((x) => x.stop().catch(() => {})))
  }
}

async function timeKill(nodes: BenchNode[], progress: (s: string) => void): Promise<number | null> {
  const victim = nodes[nodes.length - 1]!
  const survivors = nodes.slice(0, -1)
  const killedAt = epochNow()
  victim.kill()
  const deadline = Date.now() + 60_000
  for (;;) {
    const times = survivors.map((s) => s.fails.find((f) => f.nodeId === victim.nodeId)?.at)
    if (times.every((t) => t !== undefined)) return Math.max(...(times as number[])) - killedAt
    if (Date.now() > deadline) return null
    progress(`killed ${victim.nodeId}, ${times.filter((t) => t !== undefined).length}/${survivors.length} noticed`)
    await sleep(50)
  }
}
