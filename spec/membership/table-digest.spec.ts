import { expect } from 'chai'
import { tableDigest } from '../../lib/membership/table-digest.js'
import { MemberState, type PushNodeState } from '../../lib/wire/messages.js'

const row = (nodeId: string, incarnation = 1, state = MemberState.Alive, tags?: Record<string, string>): PushNodeState =>
  ({ nodeId, addr: `${nodeId}:1`, incarnation, state, ...(tags === undefined ? {} : { tags }) })

describe('tableDigest', () => {
  it('is the same for the same rows in any order, and a safe integer', () => {
    const a = [row('a'), row('b'), row('c', 3, MemberState.Suspect, { zone: 'x', v: '1' })]
    const b = [a[2]!, row('a'), row('b')]
    expect(tableDigest(a)).to.equal(tableDigest(b))
    expect(Number.isSafeInteger(tableDigest(a))).to.equal(true)
  })

  it('differs when any field of any row differs', () => {
    const base = tableDigest([row('a'), row('b')])
    expect(tableDigest([row('a'), row('b', 2)])).to.not.equal(base)
    expect(tableDigest([row('a'), row('b', 1, MemberState.Dead)])).to.not.equal(base)
    expect(tableDigest([row('a'), { ...row('b'), addr: 'b:2' }])).to.not.equal(base)
    expect(tableDigest([row('a'), row('b', 1, MemberState.Alive, { zone: 'y' })])).to.not.equal(base)
    expect(tableDigest([row('a')])).to.not.equal(base)
    expect(tableDigest([row('ab'), row('')])).to.not.equal(tableDigest([row('a'), row('b')]))
  })
})
