/**
 * `bcache-bench --simulate` re-runs node with the flags a large simulation
 * needs, so the command works as typed: which flags are missing, and how
 * large a heap it asks for.
 */
import { expect } from 'chai'
import { totalmem } from 'node:os'
import { missingSimulationFlags, simulationHeapMiB } from '../../tools/simulate-respawn.js'

describe('simulate re-spawn flags', () => {
  it('adds --expose-gc always, and a larger heap from 3,000 nodes, unless given', () => {
    expect(missingSimulationFlags(1000, [])).to.deep.equal(['--expose-gc'])
    expect(missingSimulationFlags(1000, ['--expose-gc'])).to.deep.equal([])
    expect(missingSimulationFlags(10_000, [])).to.deep.equal(['--expose-gc', `--max-old-space-size=${simulationHeapMiB(10_000)}`])
    expect(missingSimulationFlags(10_000, ['--expose-gc', '--max-old-space-size=9000'])).to.deep.equal([])
  })

  it('asks for at least 4 GiB, more with N², never above 60 % of RAM', () => {
    expect(simulationHeapMiB(100)).to.equal(Math.min(4096, Math.floor((0.6 * totalmem()) / 2 ** 20)))
    expect(simulationHeapMiB(10_000)).to.be.above(simulationHeapMiB(5000))
    expect(simulationHeapMiB(100_000)).to.equal(Math.floor((0.6 * totalmem()) / 2 ** 20))
  })
})
