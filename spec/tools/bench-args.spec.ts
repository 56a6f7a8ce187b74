import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { checkChartPath, combinations, label, parseBenchArgs, UsageError } from '../../tools/bench-args.js'

describe('tools/bench-args', () => {
  it('has defaults for an embedded 5-node cluster', () => {
    const c = parseBenchArgs([])
    expect(c.mode).to.equal('cluster')
    expect(c.nodes).to.deep.equal([5])
    expect(c.durationSeconds).to.equal(10)
    expect(c.rate).to.equal(1000)
    expect(c.readsPerWrite).to.equal(1)
    expect(c.sweep).to.deep.equal({})
    expect(c.writers).to.equal(undefined)
    expect(c.json).to.equal(false)
  })

  it('reads every workload flag', () => {
    const c = parseBenchArgs(['--nodes', '3', '--duration', '2.5', '--rate', '200', '--read-ratio', '9:1', '--keys', '50',
      '--distribution', 'zipf', '--value-size', '300', '--ttl-share', '10', '--ttl', '5', '--delete-share', '5',
      '--writers', '2', '--profile', 'local', '--kill', '--json', '--chart', 'out.svg', '--seed', '7'])
    expect(c).to.include({ durationSeconds: 2.5, rate: 200, readsPerWrite: 9, keys: 50, distribution: 'zipf', valueBytes: 300,
      ttlSharePercent: 10, ttlSeconds: 5, deleteSharePercent: 5, writers: 2, profile: 'local', kill: true, json: true, chart: 'out.svg', seed: 7 })
  })

  it('parses tuning lists into a sweep and runs every combination', () => {
    const c = parseBenchArgs(['--gossip-nodes', '1,2,3,4', '--gossip-interval', '50, 200', '--retransmit-mult', '2', '--packet-budget', '512'])
    expect(c.sweep).to.deep.equal({ gossipNodes: [1, 2, 3, 4], gossipIntervalMs: [50, 200], retransmitMult: [2], packetBudgetBytes: [512] })
    const all = combinations(c.sweep)
    expect(all).to.have.length(8)
    expect(all[0]).to.deep.equal({ gossipNodes: 1, gossipIntervalMs: 50, retransmitMult: 2, packetBudgetBytes: 512 })
    expect(new Set(all.map(label)).size).to.equal(8)
    expect(combinations({})).to.deep.equal([{}])
    expect(label({})).to.equal('defaults')
    expect(label({ gossipNodes: 3, gossipIntervalMs: 50 })).to.equal('nodes=3 interval=50')
  })

  it('takes a list of sizes with --simulate, and --loss in every mode', () => {
    const s = parseBenchArgs(['--simulate', '--nodes', '10,100', '--loss', '5', '--gossip-nodes', '2'])
    expect(s.mode).to.equal('simulate')
    expect(s.nodes).to.deep.equal([10, 100])
    expect(s.lossPercent).to.equal(5)
    expect(parseBenchArgs(['--loss', '5']).lossPercent).to.equal(5)
    expect(parseBenchArgs(['--loss', '12.5', '--in-process']).lossPercent).to.equal(12.5)
    expect(parseBenchArgs([]).lossPercent).to.equal(0)
    expect(() => parseBenchArgs(['--nodes', '3,4'])).to.throw(UsageError, /--nodes must be an integer/)
  })

  it('says what is wrong with a negative or malformed number, naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--rate', '-5'], /^--rate must be a number from 1 to 1000000, got '-5'$/],
      [['--rate=-5'], /^--rate must be a number from 1 to 1000000, got '-5'$/],
      [['--rate', '-0.5'], /^--rate must be a number from 1 to 1000000, got '-0.5'$/],
      [['--rate', 'fast'], /^--rate must be a number from 1 to 1000000, got 'fast'$/],
      [['--rate', 'Infinity'], /^--rate must be a number/],
      [['--rate', ''], /^--rate must be a number/],
      [['--duration', '-1'], /^--duration must be a number from 0.5/],
      [['--nodes', '-3'], /^--nodes must be an integer from 2 to 64, got '-3'$/],
      [['--loss', '-1'], /^--loss must be a number from 0 to 100, got '-1'$/],
      [['--loss', '150'], /^--loss must be a number from 0 to 100, got '150'$/],
      [['--seed', '-1'], /^--seed must be an integer/],
      [['--gossip-nodes', '-1,2'], /^--gossip-nodes must be an integer from 0/],
      [['--keys', '1.5'], /^--keys must be an integer/]
    ]
    for (const [argv, re] of cases) expect(() => parseBenchArgs(argv), argv.join(' ')).to.throw(UsageError, re)
    // A negative number is a value, not an option: what follows still parses.
    expect(parseBenchArgs(['--converge-timeout', '0', '--rate', '7']).rate).to.equal(7)
  })

  it('checks the chart path before any run: an existing, writable directory, not a directory itself', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-args-'))
    try {
      expect(checkChartPath(join(dir, 'c.svg'))).to.equal(join(dir, 'c.svg'))
      writeFileSync(join(dir, 'old.svg'), '')
      expect(checkChartPath(join(dir, 'old.svg'))).to.equal(join(dir, 'old.svg'))
      expect(() => checkChartPath(join(dir, 'nope', 'c.svg'))).to.throw(UsageError, /^--chart: directory .*nope does not exist$/)
      writeFileSync(join(dir, 'file'), '')
      expect(() => checkChartPath(join(dir, 'file', 'c.svg'))).to.throw(UsageError, /^--chart: .*file is not a directory$/)
      mkdirSync(join(dir, 'd.svg'))
      expect(() => checkChartPath(join(dir, 'd.svg'))).to.throw(UsageError, /^--chart: .*d\.svg is a directory$/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('applies the start preset under explicit flags', () => {
    const c = parseBenchArgs(['--preset', 'start', '--duration', '3'])
    expect(c.nodes).to.deep.equal([5])
    expect(c.durationSeconds).to.equal(3)
    expect(c.sweep).to.deep.equal({ gossipNodes: [1, 3], gossipIntervalMs: [50, 200] })
    expect(c.chart).to.match(/bcache-bench\.svg$/)
  })

  it('rejects bad command lines with a message naming the flag', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--nodes', '1'], /--nodes must be an integer from 2/],
      [['--nodes', 'five'], /--nodes/],
      [['--rate', '-3'], /--rate/],
      [['--gossip-nodes', '1,x'], /--gossip-nodes must be an integer/],
      [['--gossip-interval', '50,50'], /lists a value twice/],
      [['--packet-budget', '10'], /--packet-budget must be an integer from 64/],
      [['--distribution', 'pareto'], /--distribution must be uniform or zipf/],
      [['--read-ratio', '3'], /--read-ratio must be R:W/],
      [['--ttl-share', '60', '--delete-share', '50'], /must not exceed 100/],
      [['--writers', '9', '--nodes', '3'], /--writers 9 exceeds --nodes 3/],
      [['--chart', 'x.png'], /\.svg/],
      [['--join', 'nohost'], /--join must be HOST:PORT/],
      [['--join', '127.0.0.1:7946', '--kill'], /--kill/],
      [['--in-process', '--kill'], /--kill needs child processes/],
      [['--simulate', '--in-process'], /cannot be combined/],
      [['--preset', 'fast'], /--preset/],
      [['--bogus'], /Unknown option '--bogus'/],
      [['stray'], /positional/]
    ]
    for (const [argv, re] of cases) expect(() => parseBenchArgs(argv), argv.join(' ')).to.throw(UsageError, re)
  })

  it('accepts --help', () => {
    expect(parseBenchArgs(['-h']).help).to.equal(true)
  })
})
