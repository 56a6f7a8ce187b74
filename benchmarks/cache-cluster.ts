/**
 * Replicated-write benchmark: 3 cache-node processes on 127.0.0.1 (lan
 * profile), plus one standalone node (no peers) as the baseline.
 *
 * 1. set: --sets sets of fresh keys (100-byte values) in one synchronous
 *    loop in the writer process; µs/op of the loop (stamp, store, encode,
 *    enqueue for the push) and of the loop plus the push flush that follows
 *    it. The same on the standalone node; median of --rounds.
 * 2. burst: the same --sets-key burst while the two other nodes poll `has()`
 *    (every --poll-ms ms; 0 = a busy setImmediate loop, which on a 2-core
 *    machine takes CPU from the writer); time from the first set until the
 *    last key is visible on both.
 * 3. lag: the writer paces --lag-rate sets/s for --lag-count keys, recording
 *    when each was written; the readers record when each appeared. p50/p99/
 *    max of (appeared − written) over both readers.
 * 4. sustained: each node writes at rate/3 for --seconds (steps of
 *    --rates, cluster-wide sets/s; "max" = flat out), overwriting its own
 *    keys with a new tag per step. Then every node checks every key of every
 *    writer for the step's value, until all match or --settle-ms.
 *
 * A correctness check runs first (values read back on another node equal
 * the ones written). Usage:
 *   node dist/benchmarks/cache-cluster.js [--rounds 5] [--sets 10000]
 *     [--lag-rate 10000] [--lag-count 10000] [--rates 30000,60000,90000,120000,max]
 *     [--seconds 3] [--settle-ms 10000] [--skip-sustained] [--profile lan] [--poll-ms 1]
 */
import { parseArgs } from 'node:util'

import { median, quantile, runBenchmark, sleep, spawnCacheCluster, spawnCacheNode, waitForCacheMembers, type CacheProcess } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    sets: { type: 'string', default: '10000' },
    bytes: { type: 'string', default: '100' },
    'lag-rate': { type: 'string', default: '10000' },
    'lag-count': { type: 'string', default: '10000' },
    'lag-rounds': { type: 'string', default: '3' },
    rates: { type: 'string', default: '30000,60000,90000,120000,max' },
    seconds: { type: 'string', default: '3' },
    'settle-ms': { type: 'string', default: '10000' },
    'skip-sustained': { type: 'boolean', default: false },
    'poll-ms': { type: 'string', default: '1' },
    profile: { type: 'string', default: 'lan' },
    tuning: { type: 'string', default: '{}' }
  }
})
const rounds = Number(values.rounds), nSets = Number(values.sets), bytes = Number(values.bytes), pollMs = Number(values['poll-ms'])

interface SetBatch { t0: number; loopMs: number; flushedMs: number }
interface Watch { seen: number; count: number; lastAt: number; turns: number; times?: number[] }
interface Paced { t0: number; ms: number; written: number; rate: number; times?: number[] }
interface Verify { total: number; missing: number; doneAt: number; passes: number; sampleMissing: string[] }
interface Stats { keys: number; replication: { deltasIn: number; applied: number; antiEntropy: { rounds: number; entriesIn: number; applied: number } }; dropped: Record<string, number> }

const fmt = (x: number, d = 2): string => x.toFixed(d)

async function checkCorrectness(nodes: CacheProcess[]): Promise<void> {
  const [w, ...readers] = nodes
  await w!.call<SetBatch>('setBatch', { prefix: 'check', count: 1000, bytes, tag: 7 })
  for (const r of readers) {
    const v = await r.call<Verify>('verify', { writers: [{ prefix: 'check', count: 1000 }], bytes, tag: 7, timeoutMs: 10_000 })
    if (v.missing !== 0) throw new Error(`correctness: ${v.missing} of 1000 keys missing or wrong on a reader (${v.sampleMissing.join(', ')})`)
  }
  console.log('  correctness: 1000 values written on c0 read back equal on c1 and c2')
}

async function setAndBurst(nodes: CacheProcess[], solo: CacheProcess): Promise<void> {
  const [w, ...readers] = nodes
  const cl: number[] = [], clFlush: number[] = [], so: number[] = [], soFlush: number[] = [], burst: number[] = []
  for (let r = -1; r < rounds; r++) { // round -1 warms up
    // set µs/op, no watchers polling (they would compete for the 2 cores)
    const s = await solo.call<SetBatch>('setBatch', { prefix: `a${r + 1}`, count: nSets, bytes })
    const c = await w!.call<SetBatch>('setBatch', { prefix: `a${r + 1}`, count: nSets, bytes })
    for (const rd of readers) {
      const v = await rd.call<Verify>('verify', { writers: [{ prefix: `a${r + 1}`, count: nSets }], bytes, timeoutMs: 10_000 })
      if (v.missing !== 0) throw new Error(`set round ${r + 1}: ${v.missing} keys not replicated within 10 s`)
    }
    // burst: readers poll while the writer writes
    const watches = readers.map((rd) => rd.call<Watch>('watch', { prefix: `b${r + 1}`, count: nSets, timeoutMs: 20_000, pollMs }))
    await sleep(50)
    const b = await w!.call<SetBatch>('setBatch', { prefix: `b${r + 1}`, count: nSets, bytes })
    const ws = await Promise.all(watches)
    if (ws.some((x) => x.seen !== nSets)) throw new Error(`burst round ${r + 1}: only ${ws.map((x) => x.seen).join('/')} of ${nSets} keys arrived within 20 s`)
    const visibleMs = Math.max(...ws.map((x) => x.lastAt)) - b.t0
    if (r < 0) continue
    cl.push((c.loopMs * 1000) / nSets); clFlush.push((c.flushedMs * 1000) / nSets)
    so.push((s.loopMs * 1000) / nSets); soFlush.push((s.flushedMs * 1000) / nSets)
    burst.push(visibleMs)
    console.log(`  round ${r + 1}: set ${fmt(cl[r]!, 3)} us/op (+flush ${fmt(clFlush[r]!, 3)}), no peers ${fmt(so[r]!, 3)} us/op (+flush ${fmt(soFlush[r]!, 3)}); ` +
      `burst of ${nSets} visible on both readers after ${fmt(visibleMs, 1)} ms (writer loop ${fmt(b.loopMs, 1)} ms)`)
  }
  console.log(`set, 3-node cluster (median us/op over ${nSets} sets): ${fmt(median(cl), 3)} (incl. push flush ${fmt(median(clFlush), 3)}); ` +
    `no peers ${fmt(median(so), 3)} (incl. flush ${fmt(median(soFlush), 3)}); cluster/no-peers ${fmt(median(cl) / median(so))}x (target <= 3 us/op)`)
  console.log(`burst of ${nSets} sets visible everywhere: median ${fmt(median(burst), 1)} ms (min ${fmt(Math.min(...burst), 1)}, max ${fmt(Math.max(...burst), 1)}) (target <= 100 ms)`)
}

const maxOf = (xs: readonly number[]): number => xs.reduce((m, x) => (x > m ? x : m), -Infinity)

async function lag(nodes: CacheProcess[]): Promise<void> {
  const [w, ...readers] = nodes
  const rate = Number(values['lag-rate']), count = Number(values['lag-count'])
  const all: number[] = []
  for (let r = 0; r < Number(values['lag-rounds']); r++) {
    const prefix = `l${r}`
    const watches = readers.map((rd) => rd.call<Watch>('watch', { prefix, count, timeoutMs: 30_000, times: true, pollMs }))
    await sleep(50)
    const p = await w!.call<Paced>('paced', { prefix, count, bytes, rate, times: true })
    const ws = await Promise.all(watches)
    const lags: number[] = []
    for (const x of ws) {
      if (x.seen !== count) throw new Error(`lag round ${r}: only ${x.seen} of ${count} keys arrived`)
      for (let i = 0; i < count; i++) lags.push(x.times![i]! - p.times![i]!)
    }
    for (const x of lags) all.push(x) // not push(...lags): 100k arguments overflow the stack
    console.log(`  lag round ${r + 1}: ${count} sets at ${fmt(p.rate, 0)}/s; per-key lag p50 ${fmt(quantile(lags, 0.5))} ms, ` +
      `p99 ${fmt(quantile(lags, 0.99))} ms, max ${fmt(maxOf(lags))} ms; reader poll turns ${ws.map((x) => x.turns).join('/')}`)
  }
  console.log(`replication lag at ${rate} sets/s (both readers, all rounds): p50 ${fmt(quantile(all, 0.5))} ms, p99 ${fmt(quantile(all, 0.99))} ms, ` +
    `max ${fmt(maxOf(all))} ms (target p99 <= 5 ms at 10k sets/s, <= 20 ms at 50k)`)
}

async function sustained(nodes: CacheProcess[]): Promise<void> {
  const seconds = Number(values.seconds), settleMs = Number(values['settle-ms'])
  const steps = values.rates!.split(',')
  let best = 0
  for (let s = 0; s < steps.length; s++) {
    const tag = 100 + s
    const flat = steps[s] === 'max'
    const perNode = flat ? null : Number(steps[s]) / nodes.length
    const count = flat ? 50_000_000 : Math.round(perNode! * seconds)
    const before = await Promise.all(nodes.map((n) => n.call<Stats>('stats')))
    const ps = await Promise.all(nodes.map((n, i) =>
      n.call<Paced>('paced', { prefix: `w${i}`, count, bytes, rate: perNode, tag, seconds: flat ? seconds : undefined, chunk: 200 })))
    const start = Math.min(...ps.map((p) => p.t0)), end = Math.max(...ps.map((p) => p.t0 + p.ms))
    const written = ps.reduce((a, p) => a + p.written, 0)
    const achieved = (written * 1000) / (end - start)
    const writers = ps.map((p, i) => ({ prefix: `w${i}`, count: p.written }))
    const vs = await Promise.all(nodes.map((n) => n.call<Verify>('verify', { writers, bytes, tag, timeoutMs: settleMs, everyMs: 100 }, settleMs + 120_000)))
    const after = await Promise.all(nodes.map((n) => n.call<Stats>('stats')))
    const missing = vs.reduce((a, v) => a + v.missing, 0)
    const visibleAfter = Math.max(...vs.map((v) => v.doneAt)) - end
    const aeEntries = after.map((a, i) => a.replication.antiEntropy.applied - before[i]!.replication.antiEntropy.applied)
    const aeMoved = after.map((a, i) => a.replication.antiEntropy.entriesIn - before[i]!.replication.antiEntropy.entriesIn)
    const ok = missing === 0
    if (ok && visibleAfter <= 5000) best = Math.max(best, achieved)
    console.log(`  step ${steps[s]}: wrote ${written} sets in ${fmt((end - start) / 1000)} s = ${fmt(achieved, 0)} sets/s cluster-wide ` +
      `(per node ${ps.map((p) => fmt(p.rate, 0)).join('/')}); ` +
      (ok ? `all ${vs[0]!.total} keys correct on all 3 nodes ${fmt(visibleAfter, 0)} ms after the load stopped`
        : `${missing} key checks still wrong after ${settleMs} ms (e.g. ${vs.flatMap((v) => v.sampleMissing).slice(0, 3).join(', ')})`) +
      `; repaired by anti-entropy (new on arrival) per node ${aeEntries.join('/')} (entries moved ${aeMoved.join('/')}); dropped ${JSON.stringify(after.map((a) => a.dropped))}`)
  }
  console.log(`sustained: highest cluster-wide rate with every write visible everywhere within 5 s of the load stopping: ${fmt(best, 0)} sets/s (aim >= 100000)`)
}

async function main(): Promise<void> {
  const extra = ['--profile', values.profile!, '--tuning', values.tuning!, '--max-keys', '4000000']
  console.log(`cache-cluster: 3 processes + 1 standalone on 127.0.0.1, profile ${values.profile}, ${bytes}-byte values, readers poll every ${pollMs === 0 ? 'turn (setImmediate)' : `${pollMs} ms`}`)
  const nodes = await spawnCacheCluster(3, () => extra)
  const solo = await spawnCacheNode(['--node-id', 'solo', ...extra])
  await waitForCacheMembers(nodes, 3)
  console.log(`  cluster up: ${nodes.map((n) => n.address).join(', ')}; solo ${solo.address}`)
  await checkCorrectness(nodes)
  await setAndBurst(nodes, solo)
  await lag(nodes)
  if (!values['skip-sustained']) await sustained(nodes)

}

runBenchmark(main)
