/**
 * The member table's state rules, one spec per rule (memberlist style:
 * TestMemberList_AliveNode_Refute and friends), on a bare table with a
 * manual clock: no network, no probe loop.
 */
import { expect } from 'chai'
import { MsgType, type AliveMsg } from '../../lib/wire/messages.js'
import { SELF_ADDR, SELF_ID, TableFixture } from './fixtures.js'

describe('MemberTable rules', () => {
  describe('suspicion: k = suspicionMult − 2 confirmations shrink the timeout to its minimum', () => {
    // lan: suspicionMult 4 (k = 2), max mult 6, probe interval 1 s. With N live
    // (ourselves included) ≤ 10: min 4000 ms, max 24000 ms. Below N = 4 there
    // are fewer than k possible confirmers: k = 0, the timeout is the minimum.
    // [peers, extra accusers after the first, ms from suspicion to dead]
    const rows: Array<[peers: number, confirmers: string[], deadAfterMs: number]> = [
      [9, [], 24000],
      [9, ['p3'], 11381], // 24000 − 20000 · log 2 / log 3
      [9, ['p3', 'p4'], 4000], // k reached
      [9, ['p3', 'p4', 'p5'], 4000], // beyond k: no further effect
      [9, ['p3', 'p3'], 11381], // one accuser counts once
      [3, [], 24000], // N = 4: n − 2 = k, still k = 2
      [3, ['p3'], 11381],
      [2, [], 4000] // N = 3: too small to confirm, k = 0
    ]
    for (const [peers, confirmers, deadAfterMs] of rows) {
      it(`N=${peers + 1}, first accuser p2, then [${confirmers.join(', ')}]: dead after ${deadAfterMs} ms`, () => {
        const f = new TableFixture().addPeers(peers)
        const inc = f.table.get('p1')!.incarnation
        f.table.handleSuspect({ type: MsgType.Suspect, incarnation: inc, nodeId: 'p1', fromId: 'p2' })
        for (const c of confirmers) f.table.handleSuspect({ type: MsgType.Suspect, incarnation: inc, nodeId: 'p1', fromId: c })
        f.clock.advance(deadAfterMs - 1)
        expect(f.state('p1')).to.equal('suspect')
        f.clock.advance(1)
        expect(f.state('p1')).to.equal('dead')
      })
    }
  })

  describe('refute: a suspect or dead message about ourselves', () => {
    const rows: Array<[name: string, type: MsgType.Suspect | MsgType.Dead, incDelta: number]> = [
      ['suspect at our incarnation', MsgType.Suspect, 0],
      ['suspect at a higher incarnation', MsgType.Suspect, 5],
      ['dead at our incarnation', MsgType.Dead, 0],
      ['dead at a higher incarnation', MsgType.Dead, 5]
    ]
    for (const [name, type, incDelta] of rows) {
      it(`${name}: raises our incarnation above it, broadcasts alive, raises local health by 1`, () => {
        const f = new TableFixture().addPeers(3)
        const inc = f.table.self.incarnation
        f.table[type === MsgType.Suspect ? 'handleSuspect' : 'handleDead']({ type, incarnation: inc + incDelta, nodeId: SELF_ID, fromId: 'p1' } as never)
        expect(f.table.self.incarnation).to.equal(inc + incDelta + 1)
        expect(f.state(SELF_ID)).to.equal('alive')
        expect(f.awareness.score()).to.equal(1)
        expect(f.queued()).to.deep.equal([{ type: MsgType.Alive, incarnation: inc + incDelta + 1, nodeId: SELF_ID, addr: SELF_ADDR }])
      })
    }

    it('each refutation raises health again (a node others keep suspecting is slow)', () => {
      const f = new TableFixture().addPeers(3)
      for (let i = 1; i <= 3; i++) {
        f.table.handleSuspect({ type: MsgType.Suspect, incarnation: f.table.self.incarnation, nodeId: SELF_ID, fromId: 'p1' })
        expect(f.awareness.score()).to.equal(i)
      }
    })

    it('an old accusation (lower incarnation) is ignored: no refute, health unchanged', () => {
      const f = new TableFixture().addPeers(3)
      const inc = f.table.self.incarnation
      f.table.handleSuspect({ type: MsgType.Suspect, incarnation: inc - 1, nodeId: SELF_ID, fromId: 'p1' })
      expect(f.table.self.incarnation).to.equal(inc)
      expect(f.awareness.score()).to.equal(0)
      expect(f.queued()).to.deep.equal([])
    })

    it('while leaving, accusations are not refuted', () => {
      const f = new TableFixture().addPeers(3)
      f.table.leave()
      const inc = f.table.self.incarnation
      f.table.handleSuspect({ type: MsgType.Suspect, incarnation: inc, nodeId: SELF_ID, fromId: 'p1' })
      expect(f.table.self.incarnation).to.equal(inc)
      expect(f.awareness.score()).to.equal(0)
      expect(f.queued()).to.deep.equal([])
    })
  })

  describe('refute: an alive message about ourselves that differs from the truth', () => {
    const other = '10.9.9.9:7946'
    // [name, incarnation offset from ours, address, refuted]
    const rows: Array<[name: string, incDelta: number, addr: string, refuted: boolean]> = [
      ['our own announcement echoed back', 0, SELF_ADDR, false],
      ['an older incarnation elsewhere (our previous life)', -1, other, false],
      ['our incarnation at another address', 0, other, true],
      ['a higher incarnation at another address', 3, other, true],
      ['a higher incarnation at our address', 3, SELF_ADDR, true]
    ]
    for (const [name, incDelta, addr, refuted] of rows) {
      it(`${name}: ${refuted ? 'refuted with a higher incarnation' : 'ignored'}`, () => {
        const f = new TableFixture().addPeers(3)
        const inc = f.table.self.incarnation
        const claim: AliveMsg = { type: MsgType.Alive, incarnation: inc + incDelta, nodeId: SELF_ID, addr }
        f.table.handleAlive(claim)
        expect(f.table.self.addr).to.equal(SELF_ADDR)
        expect(f.state(SELF_ID)).to.equal('alive')
        if (!refuted) {
          expect(f.table.self.incarnation).to.equal(inc)
          expect(f.queued()).to.deep.equal([])
          expect(f.awareness.score()).to.equal(0)
          return
        }
        const want = Math.max(inc, claim.incarnation) + 1
        expect(f.table.self.incarnation).to.equal(want)
        expect(f.queued()).to.deep.equal([{ type: MsgType.Alive, incarnation: want, nodeId: SELF_ID, addr: SELF_ADDR }])
        expect(f.awareness.score()).to.equal(1)
      })
    }
  })

  describe('preseedForBootstrap (the simulator\'s quiet bootstrap)', () => {
    it('adds members as alive with no broadcast and no event; known ones, ourselves and the limit are respected; the rules apply after', () => {
      const f = new TableFixture({}).addPeers(1)
      const seeded = [SELF_ID, 'p1', 'q1', 'q2', 'q3'].map((nodeId, i) => ({ nodeId, addr: `10.0.2.${i}:7946`, incarnation: 5, ...(i === 4 ? { tags: { zone: 'b' } } : {}) }))
      expect(f.table.preseedForBootstrap(seeded)).to.equal(3)
      expect(f.queued()).to.deep.equal([])
      expect(f.events).to.deep.equal([])
      expect(f.table.size()).to.equal(5)
      expect(f.table.numLive()).to.equal(5)
      expect(f.table.get('p1')!.incarnation, 'a known member is not overwritten').to.equal(1)
      expect(f.table.self.addr).to.equal(SELF_ADDR)
      expect(f.table.get('q3')).to.deep.include({ nodeId: 'q3', addr: '10.0.2.4:7946', incarnation: 5, tags: { zone: 'b' } })
      ;(f.config as { maxMembers?: number }).maxMembers = 6
      expect(f.table.preseedForBootstrap(['r1', 'r2', 'r3'].map((nodeId) => ({ nodeId, addr: `${nodeId}:1`, incarnation: 1 }))), 'maxMembers').to.equal(1)
      expect(f.table.size()).to.equal(6)
      f.table.handleSuspect({ type: MsgType.Suspect, incarnation: 5, nodeId: 'q1', fromId: 'p1' })
      expect(f.state('q1')).to.equal('suspect')
      expect(f.queued()).to.have.length(1)
      f.table.stop()
    })
  })
})
