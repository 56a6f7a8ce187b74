/**
 * Lifecycle speed on real sockets (127.0.0.1, port 0): how long a lone
 * node's `create()` and `close()` take on the `lan` profile, median of
 * `--rounds`. The behaviour (no wait for seeds it does not have, no wait for
 * a leave nobody hears) is pinned in virtual time by spec/bcache-lifecycle.spec.ts;
 * the figures live here.
 *
 * Usage: node dist/benchmarks/lifecycle.js [--rounds 7]
 */
import { parseArgs } from 'node:util'
import { Bcache } from '../lib/index.js'

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '7' } } })
const rounds = Number(values.rounds)

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

const creates: number[] = []
const closes: number[] = []
for (let r = 0; r < rounds; r++) {
  let t = performance.now()
  const node = await Bcache.create<string>({ listenAddr: '127.0.0.1:0', peers: [], maxKeys: 100, profile: 'lan' })
  creates.push(performance.now() - t)
  node.set('k', 'v')
  if (node.get('k') !== 'v') throw new Error('correctness check failed: the node does not read its own write')
  t = performance.now()
  await node.close()
  closes.push(performance.now() - t)
}
console.log(`lone node, lan profile, ${rounds} rounds: create() median ${median(creates).toFixed(1)} ms (target <= 50), close() median ${median(closes).toFixed(1)} ms (target <= 100)`)
