/**
 * Bytes on the wire per payload byte, every byte counted: --nodes cache-node
 * processes on 127.0.0.1 (lan profile). Each node reads its own
 * `UdpTcpTransport` counters (`net` in tools/cache-node.ts): datagram bytes
 * (UDP payloads) and TCP stream bytes (frame payloads plus length prefixes),
 * in and out. Stream bytes are split into anti-entropy (the frame payloads
 * `stats().replication.antiEntropy` counts) and the rest: push streams, plus
 * push-pull exchanges and the length prefixes of the anti-entropy frames
 * (the push-pull count in the window is printed next to it). IP/UDP/TCP headers
 * are not counted.
 *
 * Payload = key + value bytes of the writes. Every window is closed once
 * every node holds every write, plus --tail-ms (acks and stragglers).
 *
 * 1. idle: bytes per node per second over --idle-s, no writes (the baseline
 *    every window below includes).
 * 2. burst: --sets sets of fresh keys in one synchronous loop on c0; per
 *    reader, bytes received / payload; for c0, bytes sent / (payload × readers).
 *    Median of --rounds.
 * 3. sustained: every node writes rate/N sets/s for --seconds (--rate
 *    cluster-wide); per node, bytes received / payload written by the others.
 *
 * Usage: node dist/benchmarks/net-bytes.js [--nodes 5] [--sets 10000]
 *   [--rounds 3] [--rate 10000] [--seconds 5] [--idle-s 5] [--tail-ms 1000]
 */
import { parseArgs } from 'node:util'

import { keyOf } from '../tools/cache-data.js'
import { median, runBenchmark, sleep, spawnCacheCluster, waitForCacheMembers, type CacheProcess } from '../tools/cache-processes.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    sets: { type: 'string', default: '10000' },
    bytes: { type: 'string', default: '100' },
    rounds: { type: 'string', default: '3' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '5' },
    'idle-s': { type: 'string', default: '5' },
    'tail-ms': { type: 'string', default: '1000' },
    profile: { type: 'string', default: 'lan' }
  }
})
const nNodes = Number(values.nodes), nSets = Number(values.sets), bytes = Number(values.bytes), tailMs = Number(values['tail-ms'])

/** What `net` in cache-node.ts returns. */
export interface NetSnap {
  at: number; packetsIn: number; packetsOut: number; packetBytesIn: number; packetBytesOut: number
  streamBytesIn: number; streamBytesOut: number; aeBytesIn: number; aeBytesOut: number; pushPulls: number
  pushStreams: number; cpuMicros: number; rss: number
}
/** Bytes of one direction by path. */
interface Paths { udp: number; push: number; ae: number; total: number }
interface Verify { missing: number }
interface Paced { written: number }

const fmt = (x: number, d = 2): string => x.toFixed(d)
const snapAll = (nodes: CacheProcess[]): Promise<NetSnap[]> => Promise.all(nodes.map((n) => n.call<NetSnap>('net')))

/** Bytes received (`in`) or sent (`out`) between two snapshots, by path. */
function paths(a: NetSnap, b: NetSnap, dir: 'in' | 'out'): Paths {
  const d = (k: keyof NetSnap): number => (b[k] as number) - (a[k] as number)
  const udp = dir === 'in' ? d('packetBytesIn') : d('packetBytesOut')
  const stream = dir === 'in' ? d('streamBytesIn') : d('streamBytesOut')
  const ae = dir === 'in' ? d('aeBytesIn') : d('aeBytesOut')
  return { udp, ae, push: stream - ae, total: udp + stream }
}

const perPayload = (p: Paths, payload: number): string =>
  `${fmt(p.total / payload)} (udp ${fmt(p.udp / payload)}, push streams ${fmt(p.push / payload)}, anti-entropy ${fmt(p.ae / payload)})`

/** Key + value bytes of keys 0..count-1 of `prefix`. */
function payloadOf(prefix: string, count: number): number {
  let sum = 0
  for (let i = 0; i < count; i++) sum += keyOf(prefix, i).length + bytes
  return sum
}

async function idle(nodes: CacheProcess[]): Promise<void> {
  const a = await snapAll(nodes)
  await sleep(Number(values['idle-s']) * 1000)
  const b = await snapAll(nodes)
  const perSec = nodes.map((_, i) => {
    const s = (b[i]!.at - a[i]!.at) / 1000
    return { inB: paths(a[i]!, b[i]!, 'in').total / s, outB: paths(a[i]!, b[i]!, 'out').total / s, pktIn: (b[i]!.packetsIn - a[i]!.packetsIn) / s }
  })
  console.log(`idle (${values['idle-s']} s): per node bytes in/s ${perSec.map((x) => fmt(x.inB, 0)).join('/')}, ` +
    `out/s ${perSec.map((x) => fmt(x.outB, 0)).join('/')}, datagrams in/s ${perSec.map((x) => fmt(x.pktIn, 1)).join('/')}`)
}

async function burst(nodes: CacheProcess[]): Promise<void> {
  const [w, ...readers] = nodes
  const inRatios: number[] = [], outRatios: number[] = []
  for (let r = 0; r < Number(values.rounds); r++) {
    const prefix = `nb${r}`, payload = payloadOf(prefix, nSets)
    const a = await snapAll(nodes)
    await w!.call('setBatch', { prefix, count: nSets, bytes })
    const vs = await Promise.all(readers.map((rd) => rd.call<Verify>('verify', { writers: [{ prefix, count: nSets }], bytes, timeoutMs: 20_000 })))
    if (vs.some((v) => v.missing > 0)) throw new Error(`burst round ${r}: keys missing on a reader after 20 s`)
    await sleep(tailMs)
    const b = await snapAll(nodes)
    const ins = readers.map((_, i) => paths(a[i + 1]!, b[i + 1]!, 'in'))
    const out = paths(a[0]!, b[0]!, 'out')
    const pushPulls = b.reduce((s, x, i) => s + x.pushPulls - a[i]!.pushPulls, 0)
    inRatios.push(median(ins.map((p) => p.total / payload)))
    outRatios.push(out.total / (payload * readers.length))
    console.log(`  burst round ${r + 1}: ${nSets} sets, payload ${payload} B; received per payload byte per reader: ` +
      `${ins.map((p) => perPayload(p, payload)).join('; ')}; writer sent per payload byte per reader ${perPayload(scale(out, readers.length), payload)}; push-pulls ${pushPulls}`)
  }
  console.log(`burst of ${nSets} sets at N=${nNodes}: bytes received per payload byte (median reader, median of rounds) ${fmt(median(inRatios))}; ` +
    `writer bytes sent per payload byte per reader ${fmt(median(outRatios))}`)
}

const scale = (p: Paths, k: number): Paths => ({ udp: p.udp / k, push: p.push / k, ae: p.ae / k, total: p.total / k })

async function sustained(nodes: CacheProcess[]): Promise<void> {
  const rate = Number(values.rate), seconds = Number(values.seconds), perNode = rate / nodes.length
  const count = Math.round(perNode * seconds)
  const a = await snapAll(nodes)
  const ps = await Promise.all(nodes.map((n, i) => n.call<Paced>('paced', { prefix: `ns${i}`, count, bytes, rate: perNode, chunk: 200 })))
  const writers = ps.map((p, i) => ({ prefix: `ns${i}`, count: p.written }))
  const vs = await Promise.all(nodes.map((n) => n.call<Verify>('verify', { writers, bytes, timeoutMs: 20_000, everyMs: 100 })))
  if (vs.some((v) => v.missing > 0)) throw new Error('sustained: keys missing after 20 s')
  await sleep(tailMs)
  const b = await snapAll(nodes)
  const payloads = writers.map((wr) => payloadOf(wr.prefix, wr.count))
  const total = payloads.reduce((x, y) => x + y, 0)
  const ratios = nodes.map((_, i) => {
    const p = paths(a[i]!, b[i]!, 'in'), others = total - payloads[i]!
    return { p, others, r: p.total / others }
  })
  const written = ps.reduce((x, p) => x + p.written, 0)
  const pushPulls = b.reduce((s, x, i) => s + x.pushPulls - a[i]!.pushPulls, 0)
  for (const [i, x] of ratios.entries()) console.log(`  c${i}: received per payload byte of the others ${perPayload(x.p, x.others)}`)
  console.log(`sustained ${rate} sets/s for ${seconds} s at N=${nNodes} (${written} sets, every node writing): bytes received per payload byte ` +
    `median ${fmt(median(ratios.map((x) => x.r)))} (min ${fmt(Math.min(...ratios.map((x) => x.r)))}, max ${fmt(Math.max(...ratios.map((x) => x.r)))}); push-pulls ${pushPulls}`)
}

async function main(): Promise<void> {
  console.log(`net-bytes: ${nNodes} processes on 127.0.0.1, profile ${values.profile}, ${bytes}-byte values; every datagram and stream byte counted (IP/UDP/TCP headers excluded)`)
  const nodes = await spawnCacheCluster(nNodes, () => ['--profile', values.profile!, '--max-keys', '4000000'])
  await waitForCacheMembers(nodes, nNodes)
  await idle(nodes)
  await burst(nodes)
  await sustained(nodes)
}

runBenchmark(main)
