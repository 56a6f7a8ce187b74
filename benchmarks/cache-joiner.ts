/**
 * State-transfer benchmark: cache-node processes on 127.0.0.1 (lan profile,
 * `antiEntropyIntervalMs: 500` on the cluster).
 *
 * For each --sizes N:
 * 1. memory: RSS of an idle node (no keys), then, after c0 wrote N keys
 *    (100-byte string values) and c1 received them all, the RSS of the
 *    writer c0 and of the replica c1 (after a forced GC, in the node's
 *    own process).
 * 2. anti-entropy cost in sync: c0's `stats().replication.antiEntropy`
 *    bytes in+out over --ae-seconds, divided by the rounds it took part in.
 * 3. joiner: start a 3rd process joining c0; time from just before
 *    `Bcache.create()` until it resolved, and until `stats().keys === N`
 *    (--trials times, the joiner closed gracefully in between).
 *
 * A correctness check runs first: every key's value on c1, and on each
 * joiner, equals the one written.
 *
 * Usage: node dist/benchmarks/cache-joiner.js [--sizes 100000,1000000]
 *        [--trials 3] [--ae-seconds 6] [--bytes 100]
 */
import { parseArgs } from 'node:util'
import { median, runBenchmark, sleep, spawnCacheNode, waitForCacheMembers, type CacheProcess } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100000,1000000' },
    trials: { type: 'string', default: '3' },
    'ae-seconds': { type: 'string', default: '6' },
    bytes: { type: 'string', default: '100' },
    profile: { type: 'string', default: 'lan' }
  }
})
const bytes = Number(values.bytes), trials = Number(values.trials)

interface Stats { keys: number; replication: { antiEntropy: { rounds: number; failed: number; bytesIn: number; bytesOut: number; entriesIn: number; entriesOut: number } } }
interface Mem { rss: number; heapUsed: number; external: number; arrayBuffers: number; gc: boolean; keys: number }
interface Verify { total: number; missing: number; sampleMissing: string[] }

const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`

async function waitKeys(node: CacheProcess, n: number, timeoutMs: number): Promise<number> {
  const t0 = Date.now()
  for (;;) {
    const s = await node.call<Stats>('stats')
    if (s.keys >= n) return Date.now() - t0
    if (Date.now() - t0 > timeoutMs) throw new Error(`node holds ${s.keys} of ${n} keys after ${timeoutMs} ms`)
    await sleep(100)
  }
}

async function runSize(n: number): Promise<void> {
  console.log(`\n== ${n} keys ==`)
  const extra = ['--profile', values.profile!, '--max-keys', String(Math.ceil(n * 1.1) + 1000), '--tuning', JSON.stringify({ antiEntropyIntervalMs: 500 })]
  const c0 = await spawnCacheNode(['--node-id', 'c0', ...extra])
  const c1 = await spawnCacheNode(['--node-id', 'c1', '--join', c0.address, ...extra])
  await waitForCacheMembers([c0, c1], 2)
  const idle = await c1.call<Mem>('mem')
  console.log(`  idle node RSS ${mb(idle.rss)} (heap ${mb(idle.heapUsed)}, gc ${idle.gc})`)

  const t0 = Date.now()
  const fill = await c0.call<{ ms: number }>('fill', { prefix: 'j', count: n, bytes, chunk: 1000 }, 600_000)
  const waited = await waitKeys(c1, n, 300_000)
  console.log(`  c0 wrote ${n} keys in ${(fill.ms / 1000).toFixed(2)} s; c1 held them all ${((Date.now() - t0) / 1000).toFixed(2)} s after the first write (waited ${waited} ms after the writes)`)
  const v = await c1.call<Verify>('verify', { writers: [{ prefix: 'j', count: n }], bytes, timeoutMs: 1000 }, 600_000)
  if (v.missing !== 0) throw new Error(`correctness: ${v.missing} keys wrong on c1 (${v.sampleMissing.join(', ')})`)
  console.log(`  correctness: all ${n} values on c1 equal the ones written on c0`)
  const [m0, m1] = await Promise.all([c0.call<Mem>('mem'), c1.call<Mem>('mem')])
  console.log(`  RSS with ${n} keys: writer c0 ${mb(m0.rss)} (heap ${mb(m0.heapUsed)}, array buffers ${mb(m0.arrayBuffers)}), replica c1 ${mb(m1.rss)} (heap ${mb(m1.heapUsed)}, array buffers ${mb(m1.arrayBuffers)}; ` +
    `values decoded on read, and the verify pass read them all); idle ${mb(idle.rss)}`)

  // anti-entropy between two nodes in sync
  await sleep(1500)
  const a = await c0.call<Stats>('stats')
  await sleep(Number(values['ae-seconds']) * 1000)
  const b = await c0.call<Stats>('stats')
  const dr = b.replication.antiEntropy.rounds - a.replication.antiEntropy.rounds
  const dIn = b.replication.antiEntropy.bytesIn - a.replication.antiEntropy.bytesIn
  const dOut = b.replication.antiEntropy.bytesOut - a.replication.antiEntropy.bytesOut
  const dEnt = (b.replication.antiEntropy.entriesIn - a.replication.antiEntropy.entriesIn) + (b.replication.antiEntropy.entriesOut - a.replication.antiEntropy.entriesOut)
  console.log(`  anti-entropy in sync (${n} keys, 2 nodes): ${dr} rounds in ${values['ae-seconds']} s, ${dr > 0 ? ((dIn + dOut) / dr).toFixed(0) : 'n/a'} bytes/round ` +
    `(in ${dIn}, out ${dOut}), ${dEnt} entries moved`)

  const create: number[] = [], full: number[] = []
  for (let t = 0; t < trials; t++) {
    const j = await spawnCacheNode(['--node-id', `joiner${t}`, '--join', c0.address, '--expect-keys', String(n), ...extra], 300_000)
    const jt = j.join!
    if (jt.fullMs === undefined) throw new Error(`joiner ${t} never held ${n} keys`)
    if (t === 0) {
      const jv = await j.call<Verify>('verify', { writers: [{ prefix: 'j', count: n }], bytes, timeoutMs: 1000 }, 600_000)
      if (jv.missing !== 0) throw new Error(`correctness: ${jv.missing} keys wrong on the joiner`)
    }
    create.push(jt.createMs); full.push(jt.fullMs)
    console.log(`  joiner ${t + 1}: create() resolved after ${jt.createMs.toFixed(0)} ms holding ${jt.keysAtCreate} keys; all ${n} keys after ${jt.fullMs.toFixed(0)} ms`)
    j.child.kill('SIGTERM')
    await j.exited
    await sleep(500)
  }
  console.log(`joiner with ${n} keys: create() median ${median(create).toFixed(0)} ms, all keys median ${median(full).toFixed(0)} ms ` +
    `(max ${Math.max(...full).toFixed(0)} ms) (target <= ${n >= 1_000_000 ? '10 s' : '1 s'})`)
  c0.child.kill('SIGKILL'); c1.child.kill('SIGKILL')
  await Promise.all([c0.exited, c1.exited])
}

async function main(): Promise<void> {
  console.log(`cache-joiner: profile ${values.profile}, ${bytes}-byte string values, ${trials} joiner trials per size`)
  for (const n of values.sizes!.split(',').map(Number)) await runSize(n)
}

runBenchmark(main)
