/**
 * `npm start`: a short, self-contained tour on this machine. Starts a
 * 5-process cluster on 127.0.0.1 (ports picked by the OS), shows the member
 * table, SIGKILLs one process, reports how long the survivors took to mark
 * it dead, and stops everything.
 *
 * Usage: node dist/tools/demo.js [--nodes 5] [--profile local|lan|wan]
 */
import { parseArgs } from 'node:util'
import { killAll, membersOf, spawnCluster, waitForAlive } from './cluster-processes.js'

const { values } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5' },
    profile: { type: 'string', default: 'local' },
    help: { type: 'boolean', short: 'h', default: false }
  }
})

async function main(): Promise<void> {
  if (values.help) {
    console.log('usage: npm start -- [--nodes N (default 5)] [--profile local|lan|wan (default local)]')
    return
  }
  const n = Number(values.nodes)
  if (!Number.isInteger(n) || n < 2 || n > 50) throw new RangeError(`--nodes must be an integer from 2 to 50, got ${values.nodes}`)
  console.log(`starting ${n} node processes on 127.0.0.1 (profile ${values.profile})...`)
  const t0 = Date.now()
  const nodes = await spawnCluster(n, () => ['--profile', values.profile!])
  await waitForAlive(nodes, n)
  console.log(`all ${n} nodes see each other alive after ${Date.now() - t0} ms\n`)
  for (const m of await membersOf(nodes[0]!)) console.log(`  ${m.nodeId.padEnd(6)} ${m.address.padEnd(22)} ${m.state.padEnd(8)} incarnation ${m.incarnation}`)
  const victim = nodes[n - 1]!
  console.log(`\nSIGKILL ${victim.nodeId} (${victim.address})`)
  const killedAt = Date.now()
  victim.child.kill('SIGKILL')
  const survivors = nodes.filter((x) => x !== victim)
  for (;;) {
    const seen = survivors.filter((s) => s.events.some((e) => e.event === 'fail' && e.nodeId === victim.nodeId))
    if (seen.length === survivors.length) break
    if (Date.now() - killedAt > 60_000) throw new Error('survivors did not detect the failure within 60 s')
    await new Promise((r) => setTimeout(r, 20))
  }
  const last = Math.max(...survivors.map((s) => s.events.find((e) => e.event === 'fail' && e.nodeId === victim.nodeId)!.at))
  console.log(`every survivor marked ${victim.nodeId} dead ${last - killedAt} ms after the kill\n`)
  for (const m of await membersOf(nodes[0]!)) console.log(`  ${m.nodeId.padEnd(6)} ${m.address.padEnd(22)} ${m.state}`)
  console.log('\nfailure-detection benchmark (10 processes, lan profile): npm run bench:detect')
}

process.on('SIGINT', () => void killAll().then(() => process.exit(130)))
main()
  .then(() => killAll())
  .catch(async (err: unknown) => {
    console.error(`demo: ${err instanceof Error ? err.message : String(err)}`)
    await killAll()
    process.exit(1)
  })
