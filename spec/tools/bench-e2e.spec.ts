import { execFileSync, spawn } from 'node:child_process'
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
})
