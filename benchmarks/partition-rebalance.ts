/**
 * Partition-mode rebalancing after a join: 5 partition-node processes
 * (tools/partition-node.ts, lan profile, replicas --replicas) on 127.0.0.1
 * hold --keys keys (`k:i`, --bytes-byte values, written by the 5 nodes in
 * equal ranges); once every owner stores its keys and the writers have let
 * go of the keys they do not own, a 6th node joins. Measured:
 *   - time to R owners: from just before the joiner's `Bcache.create()`
 *     (its own clock; epoch ms are comparable across processes on one
 *     machine) until every node stores every key it owns by the new table
 *     (`ownersOf` over the 6 ids; each node counts its own keys, polling
 *     every 20 ms, a full pass only once its store is big enough); also how
 *     long create() took (it includes the joiner's initial pull);
 *   - time until the nodes that lost a segment dropped it (the stored keys
 *     summed over the nodes are back to R × --keys);
 *   - keys that changed owner (their owners over the 6 ids include the
 *     joiner: a join adds at most one owner to a key);
 *   - bytes moved: TCP stream bytes sent (`stats().transport.streamBytesOut`,
 *     length prefixes included; summed over the nodes, so each byte counts
 *     once) from just before the join until each of the two points above,
 *     minus the idle rate of the 5 nodes before the join (membership
 *     push-pull, repair rounds) over the same time; against the ideal:
 *     (keys that changed owner) × (wire bytes per entry). Wire bytes per
 *     entry are measured first, in this process (two partition nodes on
 *     127.0.0.1: a joiner pulls E, then 2E keys of the same shape; the slope
 *     of its stream bytes in over the entries it received);
 *   - segment-round entries sent, against the keys that changed owner.
 * Every child is killed at the end, on error and on Ctrl-C.
 *
 * Usage: node dist/benchmarks/partition-rebalance.js [--keys 1000000]
 *   [--bytes 100] [--replicas 2] [--idle-s 3]
 * Smoke run: --keys 20000 (seconds).
 */
import { parseArgs } from 'node:util'
import { Bcache, ownersOf, segmentOf } from '../lib/index.js'
import { keyOf, valueFor } from '../tools/cache-data.js'
import { sleep } from '../tools/cache-processes.js'
import type { KeyRange } from '../tools/partition-node.js'
import { loadLine, runPartitionBenchmark, spawnPartitionCluster, spawnPartitionNode, waitForMembers, type NodeStatus, type PartitionProcess } from '../tools/partition-processes.js'
import { pollUntil } from '../tools/wait.js'

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    bytes: { type: 'string', default: '100' },
    replicas: { type: 'string', default: '2' },
    'idle-s': { type: 'string', default: '3' }
  }
})
const nKeys = Number(values.keys), bytes = Number(values.bytes), replicas = Number(values.replicas), idleS = Number(values['idle-s'])
if (!(Number.isSafeInteger(nKeys) && nKeys >= 1000)) throw new RangeError(`--keys must be an integer of at least 1000, got '${values.keys}'`)
const START = 5
const fmt = (x: number, d = 1): string => x.toFixed(d)
const mb = (x: number): string => `${fmt(x / 1e6, 2)} MB`

const ranges: KeyRange[] = Array.from({ length: START }, (_, j) => {
  const share = Math.ceil(nKeys / START)
  return { prefix: 'k', from: j * share, count: Math.max(0, Math.min(share, nKeys - j * share)) }
})

/** Wire bytes per entry in a segment round: slope of a joiner's stream bytes in over the entries it received, E then 2E keys. */
async function bytesPerEntry(): Promise<number> {
  const e = Math.max(2000, Math.min(50_000, Math.floor(nKeys / 10)))
  const pull = async (count: number): Promise<{ bytesIn: number; entries: number }> => {
    const opts = { listenAddr: '127.0.0.1:0', mode: 'partition' as const, replicas, maxKeys: count * 2, profile: 'lan' as const, statsInterval: 0 }
    const a = await Bcache.create<string>(opts)
    let b: Bcache<string> | undefined
    try {
      const stride = nKeys / count // keys of the run's shape, spread over its range
      for (let i = 0; i < count; i++) { const k = Math.floor(i * stride); a.set(keyOf('k', k), valueFor('k', k, 0, bytes)) }
      b = await Bcache.create<string>({ ...opts, peers: [a.address] })
      const bb = b
      await pollUntil(() => bb.stats().keys >= count, 30_000, () => 'calibration: the joiner did not get every key', 10)
      let last = -1
      await pollUntil(() => { const n = bb.stats().partition!.sync.entriesIn, same = n === last; last = n; return same }, 30_000, () => 'calibration: rounds did not settle', 300)
      const s = bb.stats()
      return { bytesIn: s.transport.streamBytesIn, entries: s.partition!.sync.entriesIn }
    } finally {
      await Promise.all([a.close(), b?.close()])
    }
  }
  const one = await pull(e), two = await pull(2 * e)
  const per = (two.bytesIn - one.bytesIn) / (two.entries - one.entries)
  console.log(`  wire bytes per entry: ${fmt(per)} B (joiner of 2 in-process nodes: ${one.entries} entries in ${one.bytesIn} B, ${two.entries} in ${two.bytesIn} B)`)
  return per
}

const statusAll = (nodes: PartitionProcess[]): Promise<NodeStatus[]> => Promise.all(nodes.map((n) => n.call<NodeStatus>('status')))
const sum = (xs: NodeStatus[], f: (s: NodeStatus) => number): number => xs.reduce((a, s) => a + f(s), 0)
const streamOut = (xs: NodeStatus[]): number => sum(xs, (s) => s.transport.streamBytesOut)

/** Resolves once every node stores every key it owns by the table over `ids`; the epoch ms the last one did. */
async function allOwned(nodes: PartitionProcess[], ids: string[], timeoutMs: number): Promise<number> {
  const got = await Promise.all(nodes.map((n) => n.call<{ owned: number; missing: number; doneAt: number; sample: string[] }>('awaitOwned', { ids, ranges, timeoutMs }, timeoutMs + 30_000)))
  const missing = got.reduce((a, g) => a + g.missing, 0)
  if (missing !== 0) throw new Error(`${missing} owned keys not stored within ${timeoutMs / 1000} s (e.g. ${got.flatMap((g) => g.sample).slice(0, 3).join(', ')})`)
  return Math.max(...got.map((g) => g.doneAt))
}

/** Polls until the stored keys summed over the nodes are `replicas × nKeys` (nobody holds a key it does not own); its status then, or undefined after `timeoutMs`. */
async function dropped(nodes: PartitionProcess[], timeoutMs: number): Promise<NodeStatus[] | undefined> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const s = await statusAll(nodes)
    // the stores hold owned keys only, and every writer's hand-off list is empty
    if (sum(s, (x) => x.keys) <= replicas * nKeys && s.every((x) => x.partition.pendingHandOff === 0)) return s
    if (Date.now() >= deadline) return undefined
    await sleep(50)
  }
}

/** Keys whose owners over `ids` include `joiner`. */
function changedOwner(ids: string[], joiner: string): number {
  const bySegment = new Map<number, boolean>()
  let n = 0
  for (const { prefix, from = 0, count } of ranges) {
    for (let i = from; i < from + count; i++) {
      const key = keyOf(prefix, i), s = segmentOf(key)
      let moved = bySegment.get(s)
      if (moved === undefined) bySegment.set(s, moved = ownersOf(key, ids, replicas).includes(joiner))
      if (moved) n++
    }
  }
  return n
}

async function loadCluster(): Promise<PartitionProcess[]> {
  const nodes = await spawnPartitionCluster(START, ['--profile', 'lan', '--replicas', String(replicas), '--max-keys', String(nKeys + 1000)])
  await waitForMembers(nodes, START)
  const t0 = Date.now()
  await Promise.all(nodes.map((n, j) => n.call('fill', { ranges: [ranges[j]!], bytes })))
  await allOwned(nodes, nodes.map((n) => n.nodeId), 300_000)
  if (await dropped(nodes, 120_000) === undefined) throw new Error('the writers still hold keys they do not own 120 s after the load')
  console.log(`  loaded ${nKeys} keys on ${START} nodes in ${fmt((Date.now() - t0) / 1000, 2)} s (stored by their owners, hand-offs done)`)
  return nodes
}

async function main(): Promise<void> {
  console.log(`partition-rebalance: ${START} processes on 127.0.0.1 (lan), replicas ${replicas}, ${nKeys} keys of ${bytes}-byte values, then a 6th joins; ${loadLine()}`)
  const perEntry = await bytesPerEntry()
  const nodes = await loadCluster()
  const idle0 = await statusAll(nodes)
  await sleep(idleS * 1000)
  const idle1 = await statusAll(nodes)
  const idleRate = (streamOut(idle1) - streamOut(idle0)) / ((idle1[0]!.at - idle0[0]!.at) / 1000)
  const before = await statusAll(nodes)
  const joiner = await spawnPartitionNode(['--node-id', `p${START}`, '--join', nodes[0]!.address, '--profile', 'lan', '--replicas', String(replicas), '--max-keys', String(nKeys + 1000)])
  const all = [...nodes, joiner], ids = all.map((n) => n.nodeId), t0 = joiner.createStartAt
  const doneAt = await allOwned(all, ids, 600_000)
  const atDone = await statusAll(all)
  const atDrop = await dropped(all, 120_000)
  const changed = changedOwner(ids, joiner.nodeId), ideal = changed * perEntry
  const moved = (s: NodeStatus[]): number => streamOut(s) - streamOut(before) - idleRate * ((s[0]!.at - before[0]!.at) / 1000)
  const entries = (s: NodeStatus[]): number => sum(s, (x) => x.partition.sync.entriesOut) - sum(before, (x) => x.partition.sync.entriesOut)
  console.log(`  idle stream bytes (5 nodes): ${fmt(idleRate, 0)} B/s`)
  console.log(`  joiner create(): ${fmt(joiner.createdAt - t0, 0)} ms (includes its initial pull)`)
  console.log(`  time to ${replicas} owners for every key: ${fmt(doneAt - t0, 0)} ms after the join`)
  console.log(`  keys that changed owner: ${changed} of ${nKeys} (${fmt((100 * changed) / nKeys)} %; expected about ${replicas}/6 = ${fmt((100 * replicas) / 6)} %)`)
  console.log(`  bytes moved until ${replicas} owners: ${mb(moved(atDone))}, ideal ${mb(ideal)} (${changed} × ${fmt(perEntry)} B): ${fmt(moved(atDone) / ideal, 2)}x; ` +
    `segment-round entries sent ${entries(atDone)} (${fmt(entries(atDone) / changed, 2)}x the keys that changed owner)`)
  const perNode = atDone.map((x, i) => `${ids[i]} ${x.partition.sync.entriesOut - (before[i]?.partition.sync.entriesOut ?? 0)}`).join(', ')
  console.log(`  segment-round entries sent per node until ${replicas} owners: ${perNode} (${ids[START]} is the joiner)`)
  if (atDrop === undefined) console.log('  the old owners did not drop their copies within 120 s')
  else {
    console.log(`  old owners dropped their copies: ${fmt(atDrop[0]!.at - t0, 0)} ms after the join; bytes moved until then ${mb(moved(atDrop))}: ` +
      `${fmt(moved(atDrop) / ideal, 2)}x the ideal; entries sent ${entries(atDrop)} (${fmt(entries(atDrop) / changed, 2)}x)`)
  }
}

runPartitionBenchmark(main)
