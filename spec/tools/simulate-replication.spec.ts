import { expect } from 'chai'
import { UsageError } from '../../tools/bench-args.js'
import { parseReplicationArgs, wantsReplicationSimulation } from '../../tools/replication-args.js'
import { formatReplicationReports } from '../../tools/replication-report.js'
import { runReplicationSimulation, type ReplicationReport } from '../../tools/simulate-replication.js'

const N = 5

/** The report without what depends on the machine (heap, wall time). */
function machineFree(r: ReplicationReport): Omit<ReplicationReport, 'heapMiB' | 'wallSeconds'> {
  const { heapMiB: _h, wallSeconds: _w, ...rest } = r
  return rest
}

describe('tools/simulate-replication', function () {
  this.timeout(20_000)

  let uniform: ReplicationReport
  let hot: ReplicationReport

  before(async () => {
    uniform = await runReplicationSimulation({ nodes: N, writers: 'uniform', rate: 500, seconds: 1, idleSeconds: 2, seed: 3 })
    hot = await runReplicationSimulation({ nodes: N, writers: 'hot', rate: 500, seconds: 1, idleSeconds: 2, seed: 3 })
  })

  it('gets every write onto every node within the largest one-way delay (eager push, no loss)', () => {
    for (const r of [uniform, hot]) {
      expect(r.writes.issued).to.equal(500)
      expect(r.writes.reachedAll, r.writers).to.equal(r.writes.issued)
      expect(r.writes.drainMs).to.be.at.least(0)
      expect(r.writes.tailMs).to.be.at.least(5000)
      const v = r.writes.visibleMs
      expect(v.p50).to.be.greaterThan(0)
      expect(v.p50).to.be.at.most(v.p99)
      expect(v.p99).to.be.at.most(v.max)
      expect(v.max).to.be.at.most(r.latencyMs[1])
    }
  })

  it('pushes each write in one datagram to each of the N-1 peers', () => {
    for (const r of [uniform, hot]) expect(r.replication.pushDatagrams, r.writers).to.equal(r.writes.issued * (N - 1))
    // uniform: each node pushes its share, (N-1)/N datagrams per cluster write
    expect(uniform.perWrite.writer.datagramsOut).to.be.within((N - 1) / N, (N - 1) / N + 0.5)
    expect(uniform.perWrite.othersMean.datagramsIn).to.be.within((N - 1) / N, (N - 1) / N + 0.5)
    // hot: the writer sends N-1 datagrams per write, the others about none
    expect(hot.perWrite.writer.datagramsOut).to.be.within(N - 1, N - 0.5)
    expect(hot.perWrite.othersMean.datagramsOut).to.be.below(0.5)
    expect(hot.perWrite.othersMean.datagramsIn).to.be.within(1, 1.5)
    const value = hot.valueBytes
    expect(hot.perWrite.writer.udpBytesOut).to.be.above((N - 1) * value)
    expect(hot.perWrite.othersMean.udpBytesIn).to.be.above(value)
  })

  it('counts idle traffic on every node, datagrams and streams', () => {
    for (const r of [uniform, hot]) {
      for (const s of [r.idle.perSecond, r.idle.perSecondWithData]) {
        expect(s.othersMean.datagramsOut).to.be.greaterThan(0)
        expect(s.othersMean.udpBytesOut).to.be.greaterThan(0)
        expect(s.max.bytesOut).to.be.at.least(s.othersMean.bytesOut)
      }
      expect(r.idle.perSecond.max.streamBytesOut, 'anti-entropy / push-pull streams').to.be.greaterThan(0)
      expect(r.replication.antiEntropyRounds).to.be.greaterThan(0)
      expect(r.replication.antiEntropyBytesOut).to.be.greaterThan(0)
    }
    expect(formatReplicationReports([uniform, hot])).to.include('visible on every node: 500/500 writes')
  })

  it('is deterministic for a seed', async () => {
    const again = await runReplicationSimulation({ nodes: N, writers: 'hot', rate: 500, seconds: 1, idleSeconds: 2, seed: 3 })
    expect(machineFree(again)).to.deep.equal(machineFree(hot))
  })

  it('parses its own command line and names the flag it refuses', () => {
    const argv = ['--simulate-replication', '--nodes', '10,100', '--writers', 'hot', '--rate', '200', '--seconds', '3', '--seed', '7']
    expect(wantsReplicationSimulation(argv)).to.equal(true)
    expect(wantsReplicationSimulation(['--simulate'])).to.equal(false)
    const cfg = parseReplicationArgs(argv)
    expect(cfg).to.include({ rate: 200, seconds: 3, seed: 7, valueBytes: 100, idleSeconds: 30, profile: 'lan', json: false })
    expect(cfg.nodes).to.deep.equal([10, 100])
    expect(cfg.writers).to.deep.equal(['hot'])
    expect(parseReplicationArgs(['--simulate-replication']).writers).to.deep.equal(['uniform', 'hot'])
    expect(() => parseReplicationArgs(['--simulate-replication', '--writers', 'all'])).to.throw(UsageError, '--writers')
    expect(() => parseReplicationArgs(['--simulate-replication', '--nodes', '1'])).to.throw(UsageError, '--nodes')
    expect(() => parseReplicationArgs(['--simulate-replication', '--rate', '0'])).to.throw(UsageError, '--rate')
    expect(() => parseReplicationArgs(['--simulate-replication', '--loss', '5'])).to.throw(UsageError, 'loss')
  })
})
