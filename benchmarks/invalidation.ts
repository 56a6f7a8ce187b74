/**
 * Invalidation mode against full replication: bytes on the wire per write,
 * for 100-byte and 100 KB values. Three nodes in this process on 127.0.0.1
 * (real sockets, `lan` profile); one writes --writes keys, paced in turns of
 * 10, and we count every byte its transport sent (datagrams and streams,
 * `stats().transport`) until the others hold the write (replicate) or its
 * invalidation (invalidate), divided by the writes and by the two peers.
 *
 * Usage: node dist/benchmarks/invalidation.js [--writes 1000]
 */
import { once } from 'node:events'
import { parseArgs } from 'node:util'
import { Bcache } from '../lib/index.js'
import { pollUntil } from '../tools/wait.js'

const { values } = parseArgs({ options: { writes: { type: 'string', default: '1000' } } })
const writes = Number(values.writes)

const sent = (n: Bcache<unknown>): number => n.stats().transport.packetBytesOut + n.stats().transport.streamBytesOut

async function run(mode: 'replicate' | 'invalidate', valueBytes: number): Promise<number> {
  const opts = { listenAddr: '127.0.0.1:0', maxKeys: writes * 2, profile: 'lan' as const, mode, maxValueBytes: 1_048_576, statsInterval: 0 }
  const a = await Bcache.create<unknown>(opts)
  const others = [await Bcache.create<unknown>({ ...opts, peers: [a.address] }), await Bcache.create<unknown>({ ...opts, peers: [a.address] })]
  try {
    await pollUntil(() => a.members().filter((m) => m.state === 'alive').length === 3, 10_000, () => 'no cluster', 10)
    await new Promise((r) => setTimeout(r, 500))
    const before = sent(a)
    const value = 'x'.repeat(valueBytes)
    for (let i = 0; i < writes; i++) {
      const accepted = a.set(`k${i}`, value)
      if (!accepted) await once(a, 'drain') // as a writer should: no backlog dropped and left to anti-entropy
      else if (i % 10 === 9) await new Promise((r) => setImmediate(r))
    }
    // arrived: every value (replicate) or every invalidation (a tombstone, invalidate), everywhere
    await pollUntil(() => others.every((n) => mode === 'replicate' ? n.stats().keys >= writes : n.stats().tombstones >= writes), 60_000, () => 'not everywhere', 5)
    return (sent(a) - before) / writes / others.length
  } finally {
    await Promise.all([a, ...others].map((n) => n.close()))
  }
}

async function main(): Promise<void> {
  console.log(`invalidation: 3 nodes on 127.0.0.1, ${writes} writes from one node; bytes the writer sent per write per peer (datagrams + streams)`)
  for (const valueBytes of [100, 100_000]) {
    const rep = await run('replicate', valueBytes)
    const inv = await run('invalidate', valueBytes)
    console.log(`  value ${valueBytes} B: replicate ${rep.toFixed(0)} B, invalidate ${inv.toFixed(0)} B per write per peer (${(rep / inv).toFixed(1)}x less)`)
  }
}

main().catch((err: unknown) => {
  console.error(err)
  process.exit(1)
})
