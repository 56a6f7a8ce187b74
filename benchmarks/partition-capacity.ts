/**
 * Partition mode's capacity target: 10 nodes with `maxKeys: 100000` each
 * hold at least 450,000 distinct keys at `replicas: 2` (a replicated
 * cluster of the same nodes holds 100,000).
 *
 *   node dist/benchmarks/partition-capacity.js [--nodes 10] [--max-keys 100000] [--keys 450000] [--bytes 100]
 *
 * Ten partition-node processes on 127.0.0.1 (lan) write --keys keys in equal
 * ranges (each node a tenth, most of them keys it does not own). Once every
 * writer's hand-off list is empty, each node counts, over the table of the
 * 10 ids, the keys it owns and how many of them it stores; and its stored
 * keys against --max-keys. A key is held by both owners when neither misses
 * it; the figure is the keys held, by how many owners, and the largest
 * node's share of --max-keys.
 */
import { parseArgs } from 'node:util'
import type { KeyRange } from '../tools/partition-node.js'
import { loadLine, runPartitionBenchmark, spawnPartitionCluster, waitForMembers, type NodeStatus, type PartitionProcess } from '../tools/partition-processes.js'
import { sleep } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '10' },
    'max-keys': { type: 'string', default: '100000' },
    keys: { type: 'string', default: '450000' },
    bytes: { type: 'string', default: '100' }
  }
})
const N = Number(values.nodes), maxKeys = Number(values['max-keys']), nKeys = Number(values.keys), bytes = Number(values.bytes)
for (const [name, v] of [['nodes', N], ['max-keys', maxKeys], ['keys', nKeys], ['bytes', bytes]] as const) {
  if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`--${name} must be a positive integer`)
}
const share = Math.ceil(nKeys / N)
const ranges: KeyRange[] = Array.from({ length: N }, (_, j) => ({ prefix: 'c', from: j * share, count: Math.max(0, Math.min(share, nKeys - j * share)) }))

async function handedOff(nodes: PartitionProcess[], timeoutMs: number): Promise<NodeStatus[]> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await Promise.all(nodes.map((n) => n.call<NodeStatus>('status', {})))
    if (s.every((x) => x.partition.pendingHandOff === 0)) return s
    if (Date.now() >= deadline) throw new Error('writers still hold writes for their owners')
    await sleep(100)
  }
}

async function main(): Promise<void> {
  console.log(`partition-capacity: ${N} processes on 127.0.0.1 (lan), replicas 2, maxKeys ${maxKeys} each, ${nKeys} keys of ${bytes} B; ${loadLine()}`)
  const nodes = await spawnPartitionCluster(N, ['--profile', 'lan', '--replicas', '2', '--max-keys', String(maxKeys)])
  await waitForMembers(nodes, N, 60_000)
  const t0 = Date.now()
  await Promise.all(nodes.map((n, j) => n.call('fill', { ranges: [ranges[j]!], bytes }, 600_000)))
  const status = await handedOff(nodes, 300_000)
  const ids = nodes.map((n) => n.nodeId)
  const owned = await Promise.all(nodes.map((n) => n.call<{ owned: number; missing: number }>('awaitOwned', { ids, ranges, timeoutMs: 30_000 }, 90_000)))
  const copies = owned.reduce((a, o) => a + o.owned - o.missing, 0)
  const missing = owned.reduce((a, o) => a + o.missing, 0)
  const largest = Math.max(...status.map((x) => x.keys))
  console.log(`  written and handed off in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  console.log(`  owner copies stored: ${copies} of ${2 * nKeys} (${missing} missing on some owner)`)
  console.log(`  distinct keys held: at least ${nKeys - missing} of ${nKeys} (every key on both owners when nothing is missing)`)
  console.log(`  stored keys per node: ${status.map((x) => x.keys).join(', ')}; largest ${largest} = ${(100 * largest / maxKeys).toFixed(1)} % of maxKeys`)
  if (nKeys - missing < 0.9 * N * maxKeys / 2) throw new Error('capacity target missed')
}

runPartitionBenchmark(main)
