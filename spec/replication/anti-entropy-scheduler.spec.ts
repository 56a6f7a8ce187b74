import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { DropCounts } from '../../lib/drop-counts.js'
import { silentLogger } from '../../lib/logger.js'
import type { Cluster } from '../../lib/membership/cluster.js'
import { AntiEntropyScheduler } from '../../lib/replication/anti-entropy-scheduler.js'
import type { AntiEntropyContext } from '../../lib/replication/anti-entropy.js'
import { VersionedStore } from '../../lib/store/versioned-store.js'
import type { StreamConn } from '../../lib/transport/transport.js'

/** A cluster of one peer that records the streams opened to it (and fails them: no round runs). */
function oneCluster(): { cluster: Cluster; opened: string[] } {
  const opened: string[] = []
  const peer = { nodeId: 'p', address: '10.0.0.2:1', suspect: false }
  const cluster = {
    nodeId: 'me', address: '10.0.0.1:1',
    livePeers: () => [peer], numLive: () => 2, sampleAlive: () => [peer], addressOf: () => peer.address,
    sendPayloads: () => {}, handleStreams: () => {}, onPeerGone: () => {}, onPeerJoined: () => {},
    openStream: (addr: string): Promise<StreamConn> => {
      opened.push(addr)
      return Promise.reject(new Error('no network in this spec'))
    }
  } as unknown as Cluster
  return { cluster, opened }
}

describe('AntiEntropyScheduler', () => {
  // Defect (cost): under a flat-out write load a periodic round toward a peer
  // still being fed by the push stream re-sent everything in flight.
  it('skips the periodic round toward a peer whose push stream is congested, and runs it once it is not', async () => {
    const clock = new ManualClock()
    const { cluster, opened } = oneCluster()
    let congested = true
    const s = new AntiEntropyScheduler({
      cluster, clock, random: () => 0.5, logger: silentLogger, drops: new DropCounts(),
      round: {
        store: new VersionedStore({ maxKeys: 10, deletionDelayMs: 0 }), clock, applyBatch: () => 0, timeoutMs: 1000, maxValueBytes: 1000,
        stats: { rounds: 0, failed: 0, bytesOut: 0, bytesIn: 0, entriesOut: 0, entriesIn: 0, applied: 0, inSync: 0, tooLargeForPeer: 0 }
      } satisfies AntiEntropyContext,
      pushingTo: () => congested
    }, { antiEntropyIntervalMs: 1000, maxSyncs: 2 })
    s.start()
    clock.advance(5000)
    await Promise.resolve()
    expect(opened).to.deep.equal([])
    congested = false
    clock.advance(1000)
    await Promise.resolve()
    expect(opened).to.deep.equal(['10.0.0.2:1'])
    s.close()
  })
})
