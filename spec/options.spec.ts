import { expect } from 'chai'
import { checkNodeId, profiles, resolveTuning } from '../lib/options.js'

describe('options', () => {
  it('resolves each profile to memberlist-like defaults', () => {
    expect(resolveTuning('lan')).to.include({ probeIntervalMs: 1000, probeTimeoutMs: 500, gossipIntervalMs: 200, gossipNodes: 3, suspicionMult: 4, retransmitMult: 4, pushPullIntervalMs: 30_000 })
    expect(resolveTuning('local').probeIntervalMs).to.be.lessThan(profiles.lan.probeIntervalMs)
    expect(resolveTuning('wan').probeTimeoutMs).to.equal(3000)
    expect(resolveTuning()).to.deep.equal(resolveTuning('lan'))
  })

  it('applies overrides option by option, ignoring undefined', () => {
    const t = resolveTuning('lan', { gossipNodes: 5, probeIntervalMs: undefined })
    expect(t.gossipNodes).to.equal(5)
    expect(t.probeIntervalMs).to.equal(1000)
  })

  const bad: Array<[string, unknown, typeof TypeError]> = [
    ['probeIntervalMs', 0, RangeError],
    ['probeIntervalMs', 1.5, RangeError], // a number of the wrong kind (was TypeError before option-checks.ts)
    ['probeIntervalMs', '1000', TypeError],
    ['gossipNodes', -1, RangeError],
    ['appPayloadShare', 1.5, RangeError],
    ['appPayloadShare', Number.NaN, RangeError], // idem
    ['tcpFallbackPing', 'yes', TypeError],
    ['packetBudgetBytes', 10, RangeError],
    ['noSuchOption', 1, TypeError]
  ]
  for (const [name, value, type] of bad) {
    it(`rejects ${name}=${String(value)} with ${type.name} naming the option`, () => {
      expect(() => resolveTuning('lan', { [name]: value } as never)).to.throw(type, name)
    })
  }

  it('rejects inconsistent combinations and unknown profiles', () => {
    expect(() => resolveTuning('lan', { probeTimeoutMs: 2000 })).to.throw(RangeError, 'probeTimeoutMs')
    expect(() => resolveTuning('lan', { reapDeadAfterMs: 1000 })).to.throw(RangeError, 'reapDeadAfterMs')
    expect(() => resolveTuning('moon' as never)).to.throw(RangeError, 'profile')
    expect(() => resolveTuning('lan', null as never)).to.throw(TypeError)
  })

  it('names the option by its path and suggests the option a typo resembles', () => {
    expect(() => resolveTuning('lan', { gossipNodes: -1 })).to.throw(RangeError, /^option tuning\.gossipNodes: /)
    expect(() => resolveTuning('lan', { probeIntervalMS: 5 } as never)).to.throw(TypeError, /^option tuning\.probeIntervalMS: unknown option \(did you mean tuning\.probeIntervalMs\?\)$/)
    expect(() => resolveTuning('lan', { zzz: 1 } as never)).to.throw(TypeError, /^option tuning\.zzz: unknown option$/)
    expect(() => resolveTuning('lan', { probeTimeoutMs: 2000 })).to.throw(RangeError, /^option tuning\.probeTimeoutMs: .*tuning\.probeIntervalMs/)
    expect(() => resolveTuning('moon' as never)).to.throw(RangeError, /^option profile: must be one of "lan", "local", "wan"/)
  })

  it('checks node ids', () => {
    expect(checkNodeId('a')).to.equal('a')
    expect(() => checkNodeId('')).to.throw(TypeError)
    expect(() => checkNodeId(42)).to.throw(TypeError)
    expect(() => checkNodeId('x'.repeat(257))).to.throw(RangeError)
  })
})
