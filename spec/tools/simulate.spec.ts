import { expect } from 'chai'
import { runSimulation, type SimulationReport } from '../../tools/simulate.js'
import { formatTable } from '../../tools/simulate-report.js'

describe('tools/simulate', function () {
  this.timeout(20_000)

  let small: SimulationReport
  let medium: SimulationReport

  before(async () => {
    small = await runSimulation({ nodes: 10, quietSeconds: 20, seed: 3 })
    medium = await runSimulation({ nodes: 50, quietSeconds: 20, seed: 3 })
  })

  it('reaches every node within ceil(log2 N) + 3 gossip rounds at 0 % loss', () => {
    for (const r of [small, medium]) {
      expect(r.skipped).to.equal(undefined)
      expect(r.bootstrap.drained, `N=${r.nodes} bootstrap drained`).to.equal(true)
      expect(r.dissemination.reached).to.equal(r.nodes)
      expect(r.dissemination.reachedAll).to.equal(true)
      expect(r.dissemination.boundRounds).to.equal(Math.ceil(Math.log2(r.nodes)) + 3)
      expect(r.dissemination.rounds).to.be.within(1, r.dissemination.boundRounds)
      expect(r.dissemination.withinBound).to.equal(true)
      expect(r.dissemination.timeToHalfMs).to.be.at.most(r.dissemination.timeTo99Ms)
      expect(r.dissemination.timeTo99Ms).to.be.at.most(r.dissemination.timeToAllMs)
    }
  })

  it('keeps the per-node message rate flat from N=10 to N=50 (within 2x)', () => {
    const a = small.load.quiet.avg
    const b = medium.load.quiet.avg
    expect(a).to.be.greaterThan(0)
    expect(b / a).to.be.within(0.5, 2)
    expect(medium.load.quiet.max).to.be.at.least(medium.load.quiet.avg)
    const da = small.load.dissemination.avg
    const db = medium.load.dissemination.avg
    expect(db / da).to.be.within(0.5, 2)
  })

  it('sees no false deaths at 0 % loss, detects a shut-down node and spreads a join', () => {
    for (const r of [small, medium]) {
      expect(r.quiet.falseDeaths).to.equal(0)
      expect(r.failureDetection?.detectedBy).to.equal(r.nodes - 1)
      expect(r.failureDetection?.allDetectedMs).to.be.greaterThan(0)
      expect(r.joinSpread?.knownBy).to.equal(r.nodes - 1)
    }
  })

  it('still reaches everyone at 10 % loss, without false deaths in a quiet period', async () => {
    const r = await runSimulation({ nodes: 30, lossPercent: 10, quietSeconds: 30, seed: 5, membershipEvents: false })
    expect(r.dissemination.reachedAll).to.equal(true)
    expect(r.quiet.falseDeaths).to.equal(0)
    expect(r.quiet.falselyDeadNodes).to.equal(0)
    expect(r.failureDetection).to.equal(undefined)
  })

  it('is deterministic for a seed', async () => {
    const a = await runSimulation({ nodes: 12, quietSeconds: 5, seed: 9, membershipEvents: false })
    const b = await runSimulation({ nodes: 12, quietSeconds: 5, seed: 9, membershipEvents: false })
    expect(a.dissemination).to.deep.equal(b.dissemination)
    expect(a.load).to.deep.equal(b.load)
  })

  it('skips, rather than runs, a size whose member tables cannot fit the heap', async () => {
    const r = await runSimulation({ nodes: 1_000_000 })
    expect(r.skipped).to.match(/heap/)
    expect(formatTable([r])).to.match(/skipped/)
    expect(formatTable([small])).to.match(/yes/)
  })

  it('rejects bad options', async () => {
    let err: unknown
    try {
      await runSimulation({ nodes: 1 })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
    err = undefined
    try {
      await runSimulation({ nodes: 10, lossPercent: 150 })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
  })
})
