import { expect } from 'chai'
import { startMembership, type Membership } from '../../lib/membership-entry.js'
import { killAll, membersOf, spawnCluster, waitForAlive } from '../../tools/cluster-processes.js'
import { pollUntil } from '../../tools/wait.js'

/** Polls `predicate` every 25 ms until it holds; fails after `timeoutMs`. */
const waitFor = (predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> =>
  pollUntil(predicate, timeoutMs, () => 'condition not met in time', 25)

const aliveCount = (n: Membership): number => n.members().filter((m) => m.state === 'alive').length

describe('Membership on real sockets (127.0.0.1, port 0)', function () {
  this.timeout(30_000)
  const nodes: Membership[] = []

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.shutdown()))
  })

  it('three in-process nodes find each other, and a graceful leave shows as left', async () => {
    const a = await startMembership({ listenAddr: '127.0.0.1:0', profile: 'local' })
    nodes.push(a)
    expect(a.address).to.match(/^127\.0\.0\.1:\d+$/)
    expect(a.address).to.not.equal('127.0.0.1:0')
    const b = await startMembership({ listenAddr: '127.0.0.1:0', peers: [a.address], profile: 'local' })
    nodes.push(b)
    const c = await startMembership({ listenAddr: '127.0.0.1:0', peers: [a.address], profile: 'local' })
    nodes.push(c)
    await waitFor(() => nodes.every((n) => aliveCount(n) === 3), 10_000)
    const leaves: string[] = []
    a.on('leave', (m) => leaves.push(m.nodeId))
    await c.leave()
    await c.shutdown()
    await waitFor(() => leaves.includes(c.nodeId), 5_000)
    expect(a.members().find((m) => m.nodeId === c.nodeId)?.state).to.equal('left')
  })

  it('rejects bad options before binding anything', async () => {
    let err: unknown
    try {
      await startMembership({ listenAddr: '127.0.0.1:0', tuning: { probeIntervalMs: -1 } })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(RangeError)
    expect(String(err)).to.contain('probeIntervalMs')
    err = undefined
    try {
      await startMembership({ listenAddr: 'nonsense' })
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(TypeError)
  })
})

describe('Membership across processes', function () {
  this.timeout(60_000)

  after(async () => {
    await killAll()
  })

  it('marks a SIGKILLed process dead on every survivor', async () => {
    const procs = await spawnCluster(4, () => ['--profile', 'local'])
    await waitForAlive(procs, 4)
    const victim = procs[2]!
    victim.child.kill('SIGKILL')
    await victim.exited
    const survivors = procs.filter((p) => p !== victim)
    await waitFor(async () => {
      const views = await Promise.all(survivors.map((p) => membersOf(p)))
      return views.every((v) => v.find((m) => m.nodeId === victim.nodeId)?.state === 'dead')
    }, 20_000)
    for (const s of survivors) expect(s.events.some((e) => e.event === 'fail' && e.nodeId === victim.nodeId)).to.equal(true)
    await killAll()
    for (const p of procs) expect(p.child.exitCode !== null || p.child.signalCode !== null).to.equal(true)
  })
})
