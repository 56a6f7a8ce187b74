/**
 * The prober's rules, one spec per rule, on a bare table and prober with a
 * manual clock: the probe round (ping, ping-req, TCP fallback, suspicion)
 * and Lifeguard's health deltas after each probe, as memberlist applies them.
 */
import { expect } from 'chai'
import { MsgType } from '../../lib/wire/messages.js'
import { ProberFixture, peerAddr, SELF_ADDR, SELF_ID } from './fixtures.js'

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Starts one probe round; returns the target's id and the probe's sequence number. */
function startProbe(f: ProberFixture): { target: string; seq: number } {
  expect(f.prober.probeRound()).to.equal(true)
  const pings = f.sentOf(MsgType.Ping)
  expect(pings).to.have.length(1)
  return { target: pings[0]!.msg.targetId, seq: pings[0]!.msg.seq }
}

describe('Prober rules', () => {
  describe('local health after a probe (Lifeguard, as memberlist)', () => {
    // [name, peers, indirectChecks, nacks delivered, health delta]
    const failed: Array<[string, number, number, number, number]> = [
      ['no ack, no member to relay: +1', 1, 3, 0, 1],
      ['no ack, indirectChecks 0: +1', 4, 0, 0, 1],
      ['no ack, 3 relays asked, no nack: +3', 4, 3, 0, 3],
      ['no ack, 3 relays asked, 1 nack: +2', 4, 3, 1, 2],
      ['no ack, 3 relays asked, 3 nacks: 0 (the target is down, not us)', 4, 3, 3, 0],
      ['no ack, 2 relays available (of 3 asked for), no nack: +2', 3, 3, 0, 2]
    ]
    for (const [name, peers, indirectChecks, nacks, delta] of failed) {
      it(`${name}; the target is suspected`, () => {
        const f = new ProberFixture({ indirectChecks }).addPeers(peers)
        const { target, seq } = startProbe(f)
        f.clock.advance(500)
        const reqs = f.sentOf(MsgType.PingReq)
        expect(reqs).to.have.length(Math.min(indirectChecks, peers - 1))
        for (let i = 0; i < nacks; i++) f.prober.handleNack({ type: MsgType.Nack, seq })
        f.clock.advance(499)
        expect(f.state(target)).to.equal('alive')
        f.clock.advance(1)
        expect(f.awareness.score()).to.equal(delta)
        expect(f.state(target)).to.equal('suspect')
        expect(f.prober.stats).to.deep.include({ probes: 1, probeFailures: 1 })
      })
    }

    it('a direct ack within the probe timeout: −1', () => {
      const f = new ProberFixture().addPeers(4)
      f.awareness.applyDelta(2)
      const { target, seq } = startProbe(f)
      f.clock.advance(100)
      f.prober.handleAck({ type: MsgType.Ack, seq })
      expect(f.awareness.score()).to.equal(1)
      f.clock.advance(5000)
      expect(f.state(target)).to.equal('alive')
      expect(f.prober.stats).to.deep.include({ probes: 1, probeFailures: 0, indirectProbes: 0 })
      expect(f.sentOf(MsgType.PingReq)).to.deep.equal([])
    })

    it('an ack relayed after a ping-req: −1 (this engine; memberlist applies 0 here)', () => {
      const f = new ProberFixture().addPeers(4)
      f.awareness.applyDelta(2)
      const { target, seq } = startProbe(f)
      f.clock.advance(1600) // timeout 500 × 3 at score 2
      expect(f.sentOf(MsgType.PingReq)).to.have.length(3)
      f.prober.handleAck({ type: MsgType.Ack, seq })
      expect(f.awareness.score()).to.equal(1)
      f.clock.advance(5000)
      expect(f.state(target)).to.equal('alive')
      expect(f.prober.stats).to.deep.include({ probes: 1, probeFailures: 0, indirectProbes: 1 })
    })

    it('the timeouts stretch with the health score: probe timeout and interval × (score + 1)', () => {
      const f = new ProberFixture().addPeers(4)
      f.awareness.applyDelta(1)
      const { target } = startProbe(f)
      f.clock.advance(999)
      expect(f.sentOf(MsgType.PingReq)).to.deep.equal([])
      f.clock.advance(1)
      expect(f.sentOf(MsgType.PingReq)).to.have.length(3)
      f.clock.advance(999)
      expect(f.state(target)).to.equal('alive')
      f.clock.advance(1)
      expect(f.state(target)).to.equal('suspect')
    })
  })

  describe('the probe round', () => {
    it('pings the target from our address; a suspected target also gets the suspicion (buddy system)', () => {
      const f = new ProberFixture().addPeers(1)
      const inc = f.table.get('p1')!.incarnation
      f.table.handleSuspect({ type: MsgType.Suspect, incarnation: inc, nodeId: 'p1', fromId: 'someone' })
      const { seq } = startProbe(f)
      expect(f.sent).to.deep.equal([{
        to: peerAddr(1),
        msgs: [
          { type: MsgType.Ping, seq, targetId: 'p1', sourceId: SELF_ID, sourceAddr: SELF_ADDR },
          { type: MsgType.Suspect, incarnation: inc, nodeId: 'p1', fromId: SELF_ID }
        ]
      }])
    })

    it('asks alive relays other than the target, with a nack requested, under the probe seq', () => {
      const f = new ProberFixture().addPeers(4)
      const p4 = f.table.get('p4')!
      f.table.handleSuspect({ type: MsgType.Suspect, incarnation: p4.incarnation, nodeId: 'p4', fromId: 'someone' })
      let probe = startProbe(f)
      while (probe.target !== 'p1') {
        f.prober.handleAck({ type: MsgType.Ack, seq: probe.seq })
        f.sent.length = 0
        probe = startProbe(f)
      }
      f.clock.advance(500)
      const reqs = f.sentOf(MsgType.PingReq)
      expect(reqs.map((r) => r.to).sort()).to.deep.equal([peerAddr(2), peerAddr(3)])
      for (const r of reqs) {
        expect(r.msg).to.deep.equal({
          type: MsgType.PingReq, seq: probe.seq, targetId: 'p1', targetAddr: peerAddr(1),
          sourceId: SELF_ID, sourceAddr: SELF_ADDR, nack: true
        })
      }
      expect(f.prober.stats.indirectProbes).to.equal(1)
    })

    it('a target that answers over TCP only is not suspected, and counted as a TCP rescue', async () => {
      const f = new ProberFixture({ tcpFallbackPing: true }).addPeers(4)
      f.tcpAnswers = true
      const { target } = startProbe(f)
      f.clock.advance(500)
      await flush()
      f.clock.advance(5000)
      expect(f.state(target)).to.equal('alive')
      expect(f.awareness.score()).to.equal(0)
      expect(f.prober.stats).to.deep.include({ probes: 1, probeFailures: 0, tcpFallbackRescues: 1 })
    })

    it('a target that refuted meanwhile (new incarnation) is not accused by the stale probe', () => {
      const f = new ProberFixture().addPeers(1)
      startProbe(f)
      f.table.handleAlive({ type: MsgType.Alive, incarnation: 2, nodeId: 'p1', addr: peerAddr(1) })
      f.clock.advance(1000)
      expect(f.state('p1')).to.equal('alive')
      expect(f.prober.stats.probeFailures).to.equal(1)
    })

    it('a late ack after the verdict changes nothing', () => {
      const f = new ProberFixture().addPeers(1)
      const { seq } = startProbe(f)
      f.clock.advance(1000)
      expect(f.awareness.score()).to.equal(1)
      f.prober.handleAck({ type: MsgType.Ack, seq })
      expect(f.awareness.score()).to.equal(1)
      expect(f.state('p1')).to.equal('suspect')
    })

    it('stop() ends an outstanding probe without a verdict and leaves no timer', () => {
      const f = new ProberFixture().addPeers(4)
      startProbe(f)
      f.clock.advance(500)
      f.prober.stop()
      f.table.stop()
      expect(f.clock.pending()).to.equal(0)
      expect(f.prober.stats.probeFailures).to.equal(0)
    })

    it('returns false with nobody to probe', () => {
      const f = new ProberFixture()
      expect(f.prober.probeRound()).to.equal(false)
      expect(f.sent).to.deep.equal([])
    })
  })
})
