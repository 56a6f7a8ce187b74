/**
 * setAcked latency on real sockets: 5 cache processes on 127.0.0.1, one
 * writer awaiting each write in turn (`--writes`, default 1,000, of
 * `--bytes`-byte values), at `acks: 'majority'` and `'all'`, next to plain
 * `set` (its cost is the call alone: nothing is awaited). Before timing, a
 * correctness check: one acked write at 'all' must be held by every node
 * when it resolves. Latencies are per write, in ms (p50 / p99 / max).
 *
 * Usage: node dist/benchmarks/acked-writes.js [--nodes 5] [--writes 1000] [--bytes 100]
 */
import { parseArgs } from 'node:util'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { quantile, runBenchmark, spawnCacheCluster, waitForCacheMembers } from '../tools/cache-processes.js'

const { values } = parseArgs({ options: { nodes: { type: 'string', default: '5' }, writes: { type: 'string', default: '1000' }, bytes: { type: 'string', default: '100' } } })
const nNodes = Number(values.nodes), writes = Number(values.writes), bytes = Number(values.bytes)

interface Run { ms: number[]; failed: Record<string, number> }

const fmt = (x: number): string => (x < 0.1 ? x.toFixed(4) : x.toFixed(2))

async function main(): Promise<void> {
  console.log(`acked-writes: ${nNodes} processes on 127.0.0.1, lan profile, ${writes} sequential writes of ${bytes}-byte values from one node`)
  const nodes = await spawnCacheCluster(nNodes, () => ['--profile', 'lan'])
  await waitForCacheMembers(nodes, nNodes)
  const [writer, ...others] = nodes as [typeof nodes[0], ...typeof nodes]
  // Correctness first: a write acked by 'all' is held by every node when it resolves.
  const check = await writer.call<Run>('acked', { prefix: 'check', count: 1, bytes, acks: 'all' })
  if (Object.keys(check.failed).length > 0) throw new Error(`correctness check: setAcked 'all' failed: ${JSON.stringify(check.failed)}`)
  for (const n of others) {
    const v = await n.call<{ missing: number }>('verify', { writers: [{ prefix: 'check', count: 1 }], bytes, timeoutMs: 0 })
    if (v.missing !== 0) throw new Error(`correctness check: ${n.nodeId} does not hold ${keyOf('check', 0)} = ${valueFor('check', 0, 0, bytes).slice(0, 20)}… after 'all' resolved`)
  }
  for (const acks of ['none', 'majority', 'all'] as const) {
    const r = await writer.call<Run>('acked', { prefix: `w-${acks}`, count: writes, bytes, acks }, 600_000)
    const failed = Object.entries(r.failed).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
    const label = (acks === 'none' ? 'set (plain)' : `setAcked ${acks}`).padEnd(18)
    console.log(`  ${label} p50 ${fmt(quantile(r.ms, 0.5))} ms  p99 ${fmt(quantile(r.ms, 0.99))} ms  max ${fmt(r.ms[r.ms.length - 1]!)} ms  failed: ${failed}`)
  }
}

runBenchmark(main)
