/**
 * The cluster behind `tools/simulate-replication.ts`: N real `Bcache` nodes
 * on one `MemoryNetwork` with one shared `ManualClock`, each with its own
 * seeded random, so a run is a pure function of its settings.
 *
 * Counting. Each node's memory transport sits behind a
 * {@link CountingTransport} that counts datagrams and their bytes in both
 * directions; the memory transport's own counters hold datagram bytes plus
 * stream frame payload bytes (push streams, anti-entropy, push-pull), so
 * stream bytes are the difference. Frame length prefixes (4 bytes per frame
 * on real TCP) and TCP/IP headers are not counted: these are payload bytes.
 *
 * Bootstrap. Nodes start in waves that double the cluster (1, 1, 2, 4, ...):
 * every node of a wave joins one node picked at random (seeded) among those
 * already up, so no single seed serves N push-pulls and initial syncs. Then
 * time runs until every node holds N alive members and every membership
 * broadcast queue has drained; measurements start from that quiet cluster.
 */
import { Bcache, silentLogger, type ProfileName } from '../lib/index.js'
import { ManualClock, MemoryNetwork, seededRandom, type MemoryTransport, type Transport, type TransportStats } from '../lib/testing.js'
import { flush, runUntil } from './wait.js'

/** A transport that counts its datagrams (the inner memory transport counts datagrams and stream frames together). */
export class CountingTransport implements Transport {
  datagramsOut = 0
  datagramsIn = 0
  udpBytesOut = 0
  udpBytesIn = 0

  constructor(readonly inner: MemoryTransport) {}

  get address(): string {
    return this.inner.address
  }

  sendPacket(to: string, data: Uint8Array): void {
    this.datagramsOut++
    this.udpBytesOut += data.length
    this.inner.sendPacket(to, data)
  }

  onPacket(handler: Parameters<Transport['onPacket']>[0]): void {
    this.inner.onPacket((data, from) => {
      this.datagramsIn++
      this.udpBytesIn += data.length
      handler(data, from)
    })
  }

  onStream(handler: Parameters<Transport['onStream']>[0]): void {
    this.inner.onStream(handler)
  }

  dialStream(to: string, timeoutMs: number): ReturnType<Transport['dialStream']> {
    return this.inner.dialStream(to, timeoutMs)
  }

  stats(): TransportStats {
    return this.inner.stats()
  }

  close(): Promise<void> {
    return this.inner.close()
  }
}

/** What one node sent and received so far (see {@link countsOf}). */
export interface NodeCounts {
  datagramsOut: number
  datagramsIn: number
  udpBytesOut: number
  udpBytesIn: number
  streamBytesOut: number
  streamBytesIn: number
  streamsOpened: number
}

export interface ReplicationNode {
  readonly cache: Bcache<unknown>
  readonly transport: CountingTransport
}

export interface ReplicationCluster {
  readonly clock: ManualClock
  readonly nodes: ReplicationNode[]
}

/** The counters of one node now. */
export function countsOf(node: ReplicationNode): NodeCounts {
  const t = node.transport
  const s = t.stats()
  return {
    datagramsOut: t.datagramsOut, datagramsIn: t.datagramsIn, udpBytesOut: t.udpBytesOut, udpBytesIn: t.udpBytesIn,
    streamBytesOut: s.bytesOut - t.udpBytesOut, streamBytesIn: s.bytesIn - t.udpBytesIn, streamsOpened: s.streamsOut
  }
}

export interface ClusterSettings {
  nodes: number
  seed: number
  profile: ProfileName
  latencyMs: [number, number]
  /** Most keys per node (no eviction during a run). */
  maxKeys: number
  log: (line: string) => void
}

const BOOT_STEP_MS = 5

/** Starts `n` nodes (see the file comment) and waits until their membership is complete and quiet. */
export async function startCluster(s: ClusterSettings): Promise<ReplicationCluster> {
  const clock = new ManualClock()
  const network = new MemoryNetwork({ clock, random: seededRandom(s.seed * 7919 + 1) }, { minDelayMs: s.latencyMs[0], maxDelayMs: s.latencyMs[1] })
  const pick = seededRandom(s.seed * 31 + 7)
  const nodes: ReplicationNode[] = []
  const start = (i: number, peers: string[]): Promise<ReplicationNode> => {
    const transport = new CountingTransport(network.bind())
    return Bcache.create<unknown>(
      // no listenAddr: the transport is given
      { listenAddr: undefined as unknown as string, peers, nodeId: `node-${i}`, statsInterval: 0, maxKeys: s.maxKeys, profile: s.profile, logger: silentLogger },
      { transport, clock, random: seededRandom(s.seed * 1_000_003 + i), defer: (fn) => clock.setTimeout(fn, 0) }
    ).then((cache) => ({ cache, transport }))
  }
  nodes.push(await settled(clock, start(0, [])))
  while (nodes.length < s.nodes) {
    const up = nodes.length
    const wave: Array<Promise<ReplicationNode>> = []
    for (let i = up; i < Math.min(2 * up, s.nodes); i++) wave.push(start(i, [nodes[Math.floor(pick() * up)]!.transport.address]))
    nodes.push(...await settled(clock, Promise.all(wave)))
    s.log(`N=${s.nodes}: ${nodes.length} nodes up at ${virtualSeconds(clock)} s virtual`)
  }
  const full = (): boolean => nodes.every(({ cache }) => cache.members().filter((m) => m.state === 'alive').length === s.nodes)
  if (await runUntil(clock, full, 300_000, BOOT_STEP_MS, 250) < 0) throw new Error(`N=${s.nodes}: membership did not converge in 300 s virtual`)
  const quiet = (): boolean => nodes.every(({ cache }) => cache.stats().membership.queuedBroadcasts === 0)
  if (await runUntil(clock, quiet, 600_000, BOOT_STEP_MS, 250) < 0) throw new Error(`N=${s.nodes}: membership broadcasts did not drain in 600 s virtual`)
  s.log(`N=${s.nodes}: membership complete and quiet at ${virtualSeconds(clock)} s virtual`)
  return { clock, nodes }
}

/** Closes every node, in virtual time. */
export async function stopCluster(c: ReplicationCluster): Promise<void> {
  await settled(c.clock, Promise.all(c.nodes.map(({ cache }) => cache.close())))
}

/** Steps the clock until `p` settles; rethrows its error (a node that cannot start is a broken run). */
async function settled<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false
  const watched = p.finally(() => { done = true })
  watched.catch(() => {})
  await flush()
  if (await runUntil(clock, () => done, 120_000, BOOT_STEP_MS) < 0) throw new Error('cluster start or stop did not settle in 120 s virtual')
  return watched
}

function virtualSeconds(clock: ManualClock): string {
  return ((clock.now() - 1_700_000_000_000) / 1000).toFixed(1)
}
