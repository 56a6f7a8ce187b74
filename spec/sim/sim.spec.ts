/**
 * The whole-cluster simulator on fixed seeds: one `it` per scenario family,
 * each aimed at one class of defect (see `generators.ts`). A failure prints
 * every failing seed's violations, its trace and the command that replays
 * (and shrinks) it: `npm run sim -- --seed N --family F`.
 */
import { expect } from 'chai'
import type { Family } from './generators.js'
import { checkSeed } from './property.js'
import { fullReport } from './report.js'

/**
 * Seeds 1..12 of every family, plus seeds that the mutant experiment
 * (docs/simulator-mutants.md) found to reach a fix the first twelve miss.
 */
const SEEDS = Array.from({ length: 12 }, (_, i) => i + 1)

const GROUPS: Array<{ family: Family; seeds: number[]; catches: string }> = [
  { family: 'baseline', seeds: [...SEEDS, 37], catches: 'loss, duplication, delay, partitions, crash and restart on one configuration' },
  { family: 'configs', seeds: [...SEEDS, 225, 460], catches: 'nodes with smaller maxKeys/maxBytes must not make the others lose writes (coverage of evicted keys)' },
  { family: 'ttl', seeds: [...SEEDS, 13, 29], catches: 'very large accepted TTLs (Number.MAX_SAFE_INTEGER) must replicate like any other' },
  { family: 'bursts', seeds: SEEDS.slice(0, 8), catches: 'a burst larger than a peer\'s maxFrameBytes must not be pushed as one frame' },
  { family: 'values', seeds: [...SEEDS, 31, 32], catches: 'the writer reads what peers read: mutation after set, -0, holes, lone surrogates' },
  { family: 'tombstones', seeds: SEEDS.slice(0, 6), catches: 'tombstones reclaimed at any delete rate' },
  { family: 'stall', seeds: [...SEEDS, 53], catches: 'a peer that stops reading must not make the writer buffer without bound' },
  { family: 'random', seeds: SEEDS, catches: 'two nodes given the same seeded random must not drop each other\'s writes' },
  { family: 'skew', seeds: SEEDS, catches: 'a write is visible at once although another clock is minutes ahead' },
  { family: 'fill', seeds: SEEDS, catches: 'a filler\'s value or error reaches every caller promptly, once per cluster' },
  { family: 'churn', seeds: SEEDS, catches: 'close, crash, restart, late join; a duplicate node id is refused' },
  { family: 'acked', seeds: SEEDS, catches: 'a resolved setAcked survives its writer\'s crash unless as many nodes went down; none stays pending after close' },
  { family: 'relay', seeds: SEEDS, catches: 'writes pushed through relays (two hops) still converge under loss, partitions and churn' },
  { family: 'invalidate', seeds: SEEDS, catches: 'mode invalidate: no node reads a value older than the newest write it heard of' },
  { family: 'partition', seeds: [...SEEDS, 16, 102, 400, 449, 608, 899, 1123, 1898, 2353, 4104, 5638], // each found a partition-mode bug or an oracle gap (see the commits)
    catches: 'mode partition: after quiescence each key\'s live owners store its newest write, non-owners let go, every read is the newest or nothing' }
]

describe('whole-cluster simulator (fixed seeds)', function () {
  this.timeout(120_000)

  for (const g of GROUPS) {
    it(`${g.family}: ${g.catches} (seeds ${g.seeds.join(' ')})`, async () => {
      const failures: string[] = []
      for (const seed of g.seeds) {
        const r = await checkSeed(seed, g.family)
        if (r.failed) failures.push(fullReport(r, 120))
      }
      if (failures.length > 0) throw new Error(`${failures.length} of ${g.seeds.length} seeds failed\n\n${failures.join('\n\n')}`)
    })
  }

  it('is deterministic: one seed gives one trace and one outcome', async () => {
    const a = await checkSeed(3, 'churn')
    const b = await checkSeed(3, 'churn')
    expect(b.oracle!.trace).to.deep.equal(a.oracle!.trace)
    expect(b.oracle!.violations).to.deep.equal(a.oracle!.violations)
    expect(a.oracle!.trace.length).to.be.greaterThan(10)
  })
})
