import { expect } from 'chai'
import { phaseOf, progressWriter } from '../../tools/bench-progress.js'

function sink(): { out: string[]; write: (s: string) => void } {
  const out: string[] = []
  return { out, write: (s) => { out.push(s) } }
}

describe('tools/bench-progress', () => {
  const updates = ['[run 1/2 defaults] starting nodes', '[run 1/2 defaults] load 0.0/2 s', '[run 1/2 defaults] load 0.3/2 s',
    '[run 1/2 defaults] load 1.8/2 s', '[run 1/2 defaults] converging 0.1 s', '[run 1/2 defaults] converging 0.4 s', '[run 1/2 defaults] stopping nodes']

  it('writes plain lines, one per phase, when not on a terminal', () => {
    const s = sink()
    const p = progressWriter(s, false)
    for (const u of updates) p.update(u)
    p.done()
    expect(s.out.join('')).not.to.include('\r')
    expect(s.out).to.deep.equal(['[run 1/2 defaults] starting nodes\n', '[run 1/2 defaults] load 0.0/2 s\n',
      '[run 1/2 defaults] converging 0.1 s\n', '[run 1/2 defaults] stopping nodes\n'])
  })

  it('redraws one line on a terminal and clears it when done', () => {
    const s = sink()
    const p = progressWriter(s, true)
    for (const u of updates) p.update(u)
    p.done()
    expect(s.out).to.have.length(updates.length + 1)
    expect(s.out.every((l) => l.startsWith('\r'))).to.equal(true)
    expect(s.out.some((l) => l.includes('\n'))).to.equal(false)
  })

  it('redraws only when both stdout and stderr are terminals (the default)', () => {
    const s = sink()
    const saved = [process.stdout.isTTY, process.stderr.isTTY]
    try {
      process.stdout.isTTY = false
      process.stderr.isTTY = true
      progressWriter(s).update('[run 1/1 defaults] load 1.0/2 s')
      expect(s.out).to.deep.equal(['[run 1/1 defaults] load 1.0/2 s\n'])
    } finally {
      [process.stdout.isTTY, process.stderr.isTTY] = saved as [boolean, boolean]
    }
  })

  it('tells phases apart by their text, not their counters', () => {
    expect(phaseOf('[run 1/4 a] load 2.5/10 s')).to.equal(phaseOf('[run 1/4 a] load 9.9/10 s'))
    expect(phaseOf('[run 1/4 a] killed x, 1/4 noticed')).to.equal(phaseOf('[run 1/4 a] killed x, 3/4 noticed'))
    expect(phaseOf('[run 1/4 a] load 2.5/10 s')).not.to.equal(phaseOf('[run 2/4 a] load 2.5/10 s'))
  })
})
