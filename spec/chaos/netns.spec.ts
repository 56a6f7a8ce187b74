/**
 * Chaos on a real (virtual) network: 5 network namespaces, each with one
 * chaos-node on its own address 10.77.0.{1..5} behind a veth joined to a
 * bridge that lives in a sixth namespace; nothing is added to the root
 * namespace, and the namespaces have no route anywhere else, so no packet
 * can leave them. Faults come from the kernel, not from the fault stage:
 * nftables drops 20 % of every node's outgoing packets (UDP and TCP:
 * `numgen random mod 100 < 20 drop`), then drop rules split the nodes 2 | 3.
 *
 * Needs root, `ip` (iproute2) and `nft` (nftables; `.ci/run` installs both
 * when it runs as root). When a namespace cannot be made, it says why and
 * skips. Namespaces (and with them the veths, the bridge and the nft
 * tables) are deleted after the run, on failure too, and at process exit.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { expect } from 'chai'
import { killAllChaos, spawnChaosCluster, waitForAliveMembers, type ChaosEvent, type ChaosNode } from '../../tools/chaos-cluster.js'
import { WriteChecker } from './checker.js'
import { describeCheck, falseDeaths, printFigures, scaled, sleep, Writer } from './harness.js'

const N = 5
/**
 * The namespaces emulate a LAN, so the default profile. 'local' (probe
 * timeout 100 ms, suspicion ≥ 600 ms) declares healthy nodes dead now and
 * then when TCP is lossy too; see benchmarks/README.md.
 */
const profile = (process.env.CHAOS_NETNS_PROFILE ?? 'lan') as 'lan' | 'local' | 'wan'
const NS_PREFIX = 'bcchaos'
const prefix = `${NS_PREFIX}${process.pid}`
const bridgeNs = `${prefix}-br`
const nodeNs = Array.from({ length: N }, (_, i) => `${prefix}-${i}`)
const ipOf = (i: number): string => `10.77.0.${i + 1}`

function run(cmd: string, args: string[], input?: string): void {
  execFileSync(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'], input: input ?? '' })
}
const nft = (ns: string, script: string): void => run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], script)

/** Why this machine cannot run the variant, or undefined when it can. */
function cannotRun(): string | undefined {
  if (process.platform !== 'linux') return `needs Linux network namespaces (platform is ${process.platform})`
  if (process.getuid?.() !== 0) return `needs root to create network namespaces (running as uid ${process.getuid?.()})`
  for (const [tool, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    if (spawnSync(tool, ['--version'], { stdio: 'ignore' }).error !== undefined) return `\`${tool}\` not found (install Debian's ${pkg})`
  }
  const probe = `${prefix}-probe`
  const made = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' })
  if (made.status !== 0) return `\`ip netns add\` failed: ${(made.stderr || made.error?.message || '').trim()}`
  spawnSync('ip', ['netns', 'del', probe], { stdio: 'ignore' })
  return undefined
}

/** Deletes every namespace of this run, and those left by runs whose process is gone. */
function cleanup(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? ''
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? ''
    const m = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(name)
    if (m === null) continue
    const owner = Number(m[1])
    if (owner !== process.pid && isRunning(owner)) continue
    spawnSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function setUpNetwork(): void {
  run('ip', ['netns', 'add', bridgeNs])
  run('ip', ['-n', bridgeNs, 'link', 'add', 'br0', 'type', 'bridge'])
  run('ip', ['-n', bridgeNs, 'link', 'set', 'br0', 'up'])
  nodeNs.forEach((ns, i) => {
    run('ip', ['netns', 'add', ns])
    run('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', `v${i}`, 'netns', bridgeNs])
    run('ip', ['-n', bridgeNs, 'link', 'set', `v${i}`, 'master', 'br0', 'up'])
    run('ip', ['-n', ns, 'addr', 'add', `${ipOf(i)}/24`, 'dev', 'eth0'])
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    nft(ns, [
      'table inet bcchaos {',
      '  chain out { type filter hook output priority 0; policy accept; }',
      '  chain in { type filter hook input priority 0; policy accept; }',
      '}'
    ].join('\n'))
  })
}

const setLoss = (ns: string, percent: number): void =>
  nft(ns, `flush chain inet bcchaos out\n${percent > 0 ? `add rule inet bcchaos out oifname "eth0" numgen random mod 100 < ${percent} drop\n` : ''}`)

function cutFrom(ns: string, others: string[]): void {
  const set = `{ ${others.join(', ')} }`
  nft(ns, `add rule inet bcchaos in ip saddr ${set} drop\nadd rule inet bcchaos out ip daddr ${set} drop\n`)
}

const healNs = (ns: string): void => nft(ns, 'flush chain inet bcchaos in\nflush chain inet bcchaos out\n')

describe(`chaos on a real network: 5 namespaces on a bridge, nftables loss and partition (${profile})`, function () {
  this.timeout(120_000)
  const events: ChaosEvent[] = []
  let nodes: ChaosNode[] = []
  // one checker for both tests: the nodes keep the first test's keys
  const checker = new WriteChecker()
  const onExit = (): void => cleanup()

  before(async function () {
    const reason = cannotRun()
    if (reason !== undefined) {
      console.log(`      [chaos] netns variant SKIPPED: ${reason}`)
      this.skip()
    }
    process.once('exit', onExit)
    cleanup()
    setUpNetwork()
    nodes = await spawnChaosCluster(N, events, {
      prefix: 'ns',
      profile,
      listen: (i) => `${ipOf(i)}:7946`,
      wrap: (i) => ['ip', 'netns', 'exec', nodeNs[i]!]
    })
    await waitForAliveMembers(nodes, N)
  })

  after(async () => {
    await killAllChaos()
    cleanup()
    process.off('exit', onExit)
  })

  it('20% kernel packet loss during writes: converges after, no write lost, no false death', async () => {
    const acked = checker.acknowledged
    for (const ns of nodeNs) setLoss(ns, 20)
    const writers = nodes.map((n, i) => new Writer(`l${i}`, n, checker, { shared: 50 }))
    await sleep(scaled(5_000))
    await Promise.all(writers.map((w) => w.stop()))
    for (const ns of nodeNs) setLoss(ns, 0)
    const { ms, result } = await checker.waitConverged(nodes, 30_000)
    const deaths = falseDeaths(events, nodes.map((n) => n.nodeId))
    printFigures(`netns: nft loss 20% (${profile})`, {
      writes: checker.acknowledged - acked,
      keys: result.strictKeys,
      convergeMs: ms,
      suspicions: events.filter((e) => e.event === 'suspect').length,
      falseDeaths: deaths.length,
      lostWrites: result.lost
    })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(deaths, JSON.stringify(deaths)).to.have.length(0)
  })

  it('nft partition 2|3 with writes on both sides, heal: merges and converges, no write lost', async () => {
    const acked = checker.acknowledged
    const writers = nodes.map((n, i) => new Writer(`p${i}`, n, checker, { shared: 50 }))
    await sleep(scaled(1_000))
    const cutAt = Date.now()
    const left = [0, 1], right = [2, 3, 4]
    for (const i of left) cutFrom(nodeNs[i]!, right.map(ipOf))
    for (const i of right) cutFrom(nodeNs[i]!, left.map(ipOf))
    await sleep(scaled(4_000))
    await Promise.all(writers.map((w) => w.stop()))
    const before = await checker.check(nodes)
    const healAt = Date.now()
    for (const ns of nodeNs) healNs(ns)
    const [{ ms, result }, membersMs] = await Promise.all([checker.waitConverged(nodes, 30_000), waitForAliveMembers(nodes, N, 30_000)])
    const side = (id: string): boolean => left.some((i) => nodes[i]!.nodeId === id)
    // deaths inside a side during the cut are false; after the heal come verdicts about
    // the other side that expired, or spread, before the victims refuted them
    const during = events.filter((e) => e.event === 'fail' && e.at >= cutAt && e.at < healAt)
    const sameSide = during.filter((e) => side(e.by) === side(e.nodeId))
    printFigures(`netns: nft partition 2|3, heal (${profile})`, {
      writes: checker.acknowledged - acked,
      keys: result.strictKeys,
      divergedAtHeal: !before.agree,
      convergeMs: ms,
      membersMergedMs: membersMs,
      deathsAcross: during.length - sameSide.length,
      deathsAfterHeal: events.filter((e) => e.event === 'fail' && e.at >= healAt).length,
      falseDeaths: sameSide.length,
      lostWrites: result.lost
    })
    for (const w of writers) expect(w.error, w.label).to.equal(undefined)
    expect(ms, describeCheck(result)).to.be.greaterThanOrEqual(0)
    expect(sameSide, JSON.stringify(sameSide)).to.have.length(0)
  })
})
