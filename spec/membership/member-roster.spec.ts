/**
 * The compact member roster (typed-array columns, interned strings) against
 * a plain Map model: random add / update / state change / remove at scale,
 * and after each step the materialized members equal what was stored;
 * sampling, address lookup, reference counts of the interned strings.
 */
import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { InternedStrings } from '../../lib/membership/interned-strings.js'
import type { Member } from '../../lib/membership/member.js'
import { MemberRoster } from '../../lib/membership/member-roster.js'
import { seededRandom } from '../../lib/random.js'
import { MemberState } from '../../lib/wire/messages.js'
import type { Tags } from '../../lib/wire/tags.js'

function fresh(): { clock: ManualClock; ids: InternedStrings; addrs: InternedStrings; roster: MemberRoster } {
  const clock = new ManualClock()
  const ids = new InternedStrings()
  const addrs = new InternedStrings()
  return { clock, ids, addrs, roster: new MemberRoster(clock, ids, addrs) }
}

function member(i: number, over: Partial<Member> = {}): Member {
  return { nodeId: `n${i}`, addr: `10.1.${i >> 8}.${i & 255}:7946`, incarnation: 1_700_000_000 + i, state: MemberState.Alive, stateChangeMs: 1_700_000_000_000, tags: {}, ...over }
}

function expectSame(roster: MemberRoster, model: Map<string, Member>): void {
  expect(roster.size()).to.equal(model.size)
  expect(roster.numLive()).to.equal([...model.values()].filter((m) => m.state <= MemberState.Suspect).length)
  for (const [id, m] of model) expect(roster.get(id), id).to.deep.equal(m)
  const all = [...roster.all()].sort((a, b) => a.nodeId.localeCompare(b.nodeId))
  expect(all).to.deep.equal([...model.values()].sort((a, b) => a.nodeId.localeCompare(b.nodeId)))
}

describe('MemberRoster (typed-array columns)', () => {
  it('matches a Map model through 20,000 random adds, updates, state changes and removes over 3,000 ids', () => {
    const { clock, roster } = fresh()
    const model = new Map<string, Member>()
    const random = seededRandom(7)
    for (let step = 0; step < 20_000; step++) {
      const i = Math.floor(random() * 3000)
      const id = `n${i}`
      const held = model.get(id)
      const op = random()
      clock.advance(1)
      if (held === undefined) {
        const m = member(i, { state: Math.floor(random() * 4) as MemberState, tags: random() < 0.2 ? { zone: `z${i % 3}` } : {} })
        roster.add(m)
        model.set(id, m)
      } else if (op < 0.3) {
        const u = { incarnation: held.incarnation + 1, addr: random() < 0.5 ? `10.9.0.${i & 255}:${8000 + (i >> 8)}` : held.addr, tags: (random() < 0.5 ? { v: String(step) } : {}) as Tags }
        roster.update(id, u)
        model.set(id, { ...held, ...u })
      } else if (op < 0.7) {
        const state = Math.floor(random() * 4) as MemberState
        roster.setState(id, state)
        if (state !== held.state) model.set(id, { ...held, state, stateChangeMs: clock.now() })
      } else {
        roster.remove(id)
        model.delete(id)
      }
      if (step % 2000 === 0) expectSame(roster, model)
    }
    expectSame(roster, model)
  })

  it('samples distinct members accepted by the filter, O(count) on a large table, and reaches every member', () => {
    const { roster } = fresh()
    for (let i = 0; i < 10_000; i++) roster.add(member(i, { state: i % 10 === 0 ? MemberState.Dead : MemberState.Alive }))
    const random = seededRandom(3)
    const seen = new Set<string>()
    for (let k = 0; k < 12_000; k++) {
      const got = roster.sample(3, random, (m) => m.state === MemberState.Alive)
      expect(got).to.have.length(3)
      expect(new Set(got.map((m) => m.nodeId)).size).to.equal(3)
      for (const m of got) {
        expect(m.state).to.equal(MemberState.Alive)
        if (k < 200) expect(m).to.deep.equal(roster.get(m.nodeId))
        seen.add(m.nodeId)
      }
    }
    expect(seen.size, '36,000 draws over 9,000 members').to.be.above(0.95 * 9000)
    const small = fresh().roster
    for (let i = 0; i < 5; i++) small.add(member(i))
    expect(small.sample(10, random, () => true).map((m) => m.nodeId).sort()).to.deep.equal(['n0', 'n1', 'n2', 'n3', 'n4'])
  })

  it('finds members by address, and removeWhere removes exactly the accepted ones', () => {
    const { roster } = fresh()
    for (let i = 0; i < 1000; i++) roster.add(member(i, { state: i % 3 === 0 ? MemberState.Dead : MemberState.Alive }))
    expect(roster.hasAddress(member(500).addr)).to.equal(true)
    expect(roster.hasAddress('10.200.0.1:1')).to.equal(false)
    const gone = roster.removeWhere((m) => m.state === MemberState.Dead)
    expect(gone).to.have.length(334)
    expect(roster.size()).to.equal(666)
    for (let i = 0; i < 1000; i++) expect(roster.has(`n${i}`)).to.equal(i % 3 !== 0)
    expect(roster.hasAddress(member(0).addr)).to.equal(false)
  })

  it('shares one interned string among rosters and forgets it when the last holder drops it', () => {
    const clock = new ManualClock()
    const ids = new InternedStrings()
    const addrs = new InternedStrings()
    const a = new MemberRoster(clock, ids, addrs)
    const b = new MemberRoster(clock, ids, addrs)
    for (let i = 0; i < 100; i++) {
      a.add(member(i))
      b.add(member(i))
    }
    expect(ids.size()).to.equal(100)
    expect(addrs.size()).to.equal(100)
    b.update('n1', { addr: 'elsewhere:1' })
    expect(addrs.size()).to.equal(101)
    for (let i = 0; i < 100; i++) a.remove(`n${i}`)
    expect(ids.size(), 'b still holds them').to.equal(100)
    for (let i = 0; i < 100; i++) b.remove(`n${i}`)
    expect(ids.size()).to.equal(0)
    expect(addrs.size()).to.equal(0)
    // Numbers are reused, so the tables stay as large as what is held at once.
    a.add(member(7))
    expect(ids.bound()).to.equal(100)
    expect(a.get('n7')).to.deep.equal(member(7))
    const n7 = ids.find('n7')!
    a.remove('n7')
    expect(ids.find('n7')).to.equal(undefined)
    expect(() => ids.release(n7)).to.throw(/released more often/)
  })
})
