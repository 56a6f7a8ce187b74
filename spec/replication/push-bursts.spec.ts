import { expect } from 'chai'
import { BATCH_TARGET_BYTES } from '../../lib/replication/delta.js'
import type { MemoryTransport } from '../../lib/transport/memory-transport.js'
import type { StreamConn } from '../../lib/transport/transport.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { addClusterNode } from '../support/cluster-node.js'

/** Records the largest frame `transport` sends on any stream it dials. */
function watchFrames(transport: MemoryTransport): { largest: number } {
  const seen = { largest: 0 }
  const dial = transport.dialStream.bind(transport)
  transport.dialStream = async (to: string, timeoutMs: number): Promise<StreamConn> => {
    const conn = await dial(to, timeoutMs)
    const send = conn.send.bind(conn)
    conn.send = (frame: Uint8Array): boolean => {
      seen.largest = Math.max(seen.largest, frame.length)
      return send(frame)
    }
    return conn
  }
  return seen
}

describe('Push streams under bursts and stalled peers (cluster)', function () {
  this.timeout(120_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  /** Three nodes; `a` (watched) writes a turn of 20,000 × 1 KB and closes at once. */
  async function burstThenClose(seed: number): Promise<{ largest: number; n: number }> {
    cluster = new CacheCluster(seed)
    // The queue toward each peer must hold the whole burst (20 MB), or part
    // of it is dropped as `push-backlog` and only anti-entropy could repair it.
    const { node: a, transport } = await addClusterNode(cluster, { nodeId: 'a', maxStreamQueueBytes: 32 * 1024 * 1024 }, { seed: 1 })
    await cluster.add({ nodeId: 'b' })
    await cluster.add({ nodeId: 'c' })
    await cluster.until(() => cluster.nodes.every((x) => x.members().filter((m) => m.state === 'alive').length === 3), 10_000)
    const frames = watchFrames(transport)
    const value = 'v'.repeat(1024)
    const n = 20_000
    for (let i = 0; i < n; i++) a.set(`k${i}`, value)
    await cluster.settle(a.close())
    await cluster.run(5_000)
    return { largest: frames.largest, n }
  }

  // Defect: a turn's burst went out as one frame (20 MB, over every
  // receiver's frame limit).
  it('a turn of 20,000 × 1 KB sets goes out in frames of at most BATCH_TARGET_BYTES + one delta', async () => {
    const { largest } = await burstThenClose(41)
    expect(largest, 'largest frame a sent').to.be.at.most(BATCH_TARGET_BYTES + 1024 + 128)
    expect(largest).to.be.greaterThan(0)
  })

  // Defect found while writing these specs: membership read a stream's first
  // frame with its own handler, and frames that arrived before the Push
  // handler took over (the second batch of a burst) were swallowed; now they
  // wait in the hand-off (lib/membership/hand-off.ts).
  it('after a 20,000-write turn and close() at once, the peers hold all 20,000', async () => {
    const { n } = await burstThenClose(41)
    const [, b, c] = cluster.nodes
    expect(b!.stats().keys, 'b').to.equal(n)
    expect(c!.stats().keys, 'c').to.equal(n)
  })

  // Defect: the push channel toward a peer that stopped reading grew without bound.
  it('a peer that stops reading: the queue toward it stays under maxStreamQueueBytes, and is 0 once the channel stalls out', async () => {
    cluster = new CacheCluster(42)
    const maxQueue = 1024 * 1024
    const a = await cluster.add({ nodeId: 'a', maxStreamQueueBytes: maxQueue })
    const { node: b, transport: bt } = await addClusterNode(cluster, { nodeId: 'b' }, { seed: 2 })
    await cluster.until(() => a.members().filter((m) => m.state === 'alive').length === 2, 10_000)
    bt.pauseReading()
    const value = 'w'.repeat(1024)
    let peak = 0
    for (let turn = 0; turn < 50; turn++) {
      for (let i = 0; i < 1000; i++) a.set(`t${turn}-${i}`, value)
      await cluster.run(1)
      peak = Math.max(peak, a.stats().replication.pushQueuedBytes)
    }
    expect(peak, 'peak queued toward b').to.be.at.most(maxQueue)
    expect(peak).to.be.greaterThan(0)
    expect(a.stats().dropped['push-backlog'] ?? 0, 'push-backlog').to.be.greaterThan(0)
    const took = await cluster.until(() => a.stats().replication.pushQueuedBytes === 0, 60_000, 20)
    expect(took, 'queue emptied').to.be.greaterThan(-1)
    expect(a.stats().dropped['push-stalled'] ?? 0, 'push-stalled').to.be.greaterThan(0)
    bt.resumeReading()
    void b
  })
})
