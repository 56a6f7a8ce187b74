import { execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import type { RunReport } from '../../tools/bench-run.js'

const cli = fileURLToPath(new URL('../../tools/bcache-bench.js', import.meta.url))

/** Processes whose command line names a node of the bench with this pid. */
function survivors(pid: number): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
  return ps.split('\n').filter((l) => l.includes(`--node-id b${pid}-`))
}

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = '', stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, stdout, stderr, pid: child.pid! }))
  })
}

describe('tools/bcache-bench (end to end)', function () {
  this.timeout(30_000)
  let dir: string
  before(() => { dir = mkdtempSync(join(tmpdir(), 'bench-e2e-')) })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('measures a 3-node, 2 s run with sane figures and leaves no process behind', async () => {
    const { code, stdout, stderr, pid } = await runCli(['--nodes', '3', '--duration', '2', '--rate', '300', '--json'])
    expect(code, stderr).to.equal(0)
    const report = JSON.parse(stdout) as { runs: RunReport[] }
    expect(report.runs).to.have.length(1)
    const r = report.runs[0]!
    expect(r.nodes).to.equal(3)
    expect(r.perNode).to.have.length(3)
    // 600 writes, each seen by the two other nodes.
    expect(r.lagMs.count).to.equal(1200)
    expect(r.missing).to.equal(0)
    expect(r.lagMs.p50).to.be.greaterThan(0).and.below(500)
    expect(r.lagMs.p50).to.be.at.most(r.lagMs.p90)
    expect(r.lagMs.p90).to.be.at.most(r.lagMs.p99)
    expect(r.lagMs.p99).to.be.at.most(r.lagMs.max)
    expect(r.convergeMs).to.be.a('number').within(0, 5000)
    expect(r.writesPerSec).to.be.within(200, 400)
    for (const n of r.perNode) {
      expect(n.packetsInPerSec, n.nodeId).to.be.greaterThan(0)
      expect(n.packetsOutPerSec).to.be.greaterThan(0)
      expect(n.bytesInPerSec).to.be.greaterThan(0)
      expect(n.bytesOutPerSec).to.be.greaterThan(0)
      // At least the payload, at most a generous multiple of it.
      expect(n.bytesInPerPayloadByte).to.be.within(1, 20)
      expect(n.cpuPercent).to.be.greaterThan(0).and.below(400)
      expect(n.rssMiB).to.be.within(10, 2000)
    }
    expect(survivors(pid)).to.deep.equal([])
  })

  it('exits 2 with a clear message on a bad argument', async () => {
    const { code, stderr, stdout } = await runCli(['--gossip-nodes', 'many'])
    expect(code).to.equal(2)
    expect(stdout).to.equal('')
    expect(stderr).to.match(/--gossip-nodes must be an integer/)
  })

  it('stops the cluster on SIGINT and exits 130', async () => {
    const child = spawn(process.execPath, [cli, '--nodes', '3', '--duration', '30'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    const loading = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes('load ')) resolve()
    }))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await loading
    expect(survivors(child.pid!)).to.have.length(3)
    child.kill('SIGINT')
    expect(await exited).to.equal(130)
    expect(survivors(child.pid!)).to.deep.equal([])
  })

  it('drops --loss of the datagrams on the real transport, and anti-entropy still converges', async () => {
    const { code, stdout, stderr, pid } = await runCli(['--nodes', '3', '--duration', '1', '--rate', '200', '--loss', '30', '--json', '--converge-timeout', '15'])
    expect(code, stderr).to.equal(0)
    const r = (JSON.parse(stdout) as { runs: RunReport[] }).runs[0]!
    expect(r.lossPercent).to.equal(30)
    expect(r.missing).to.equal(0)
    for (const n of r.perNode) {
      expect(n.lostPerSec, n.nodeId).to.be.greaterThan(0)
      // Counted against what membership sent: about 30 % of it.
      expect(n.lostPerSec / n.packetsOutPerSec).to.be.within(0.15, 0.45)
    }
    expect(survivors(pid)).to.deep.equal([])
  })

  it('refuses a bad number or an unwritable chart path before starting any node (exit 2)', async () => {
    const rate = await runCli(['--rate', '-5'])
    expect(rate.code).to.equal(2)
    expect(rate.stderr).to.match(/--rate must be a number from 1 to 1000000, got '-5'/)
    const chart = await runCli(['--nodes', '3', '--chart', join(dir, 'missing', 'c.svg')])
    expect(chart.code).to.equal(2)
    expect(chart.stderr).to.match(/--chart: directory .*missing does not exist/)
    expect(chart.stderr).not.to.include('starting nodes')
  })

  it('writes a chart with --simulate', async () => {
    const svg = join(dir, 'sim.svg')
    const { code, stdout, stderr } = await runCli(['--simulate', '--nodes', '10', '--gossip-nodes', '1,3', '--loss', '5', '--chart', svg])
    expect(code, stderr).to.equal(0)
    expect(stdout).to.include(`chart written to ${svg}`)
    const text = readFileSync(svg, 'utf8')
    expect(text).to.include('N = 10:')
    expect(text).to.include('nodes=3 interval=200 mult=4 (default)')
  })

  it('on SIGINT after one finished run: prints its table, writes its chart, exits 130, no node left, no \\r redraws', async () => {
    const svg = join(dir, 'cut.svg')
    const child = spawn(process.execPath, [cli, '--nodes', '3', '--duration', '1', '--rate', '100', '--gossip-nodes', '1,2', '--duration', '1', '--chart', svg],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = '', stdout = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    const secondLoading = new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      if (stderr.includes('[run 2/2 nodes=2] load ')) resolve()
    }))
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve))
    await secondLoading
    child.kill('SIGINT')
    expect(await exited).to.equal(130)
    expect(survivors(child.pid!)).to.deep.equal([])
    expect(stderr).not.to.include('\r')
    expect(stderr).to.match(/\[run 1\/2 nodes=1\] lag p99/)
    expect(stdout).to.include('interrupted: 1 of 2 run(s) finished')
    expect(stdout).to.match(/^nodes=1\s+\d/m)
    expect(stdout).not.to.match(/^nodes=2\s/m)
    expect(existsSync(svg)).to.equal(true)
    expect(readFileSync(svg, 'utf8')).to.include('1 run(s)')
  })
})
