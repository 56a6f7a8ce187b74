/**
 * Partition mode on real sockets (127.0.0.1, port 0): placement after the
 * hand-off, fetch into the near cache and its replacement by a newer write,
 * a graceful leave and a join rebalancing the segments. Short intervals (the
 * 'local' profile, anti-entropy and hand-off every 200 ms) keep it to a few
 * seconds; every wait is a bounded poll.
 */
import { expect } from 'chai'
import { Bcache, ownersOf, type BcacheOptions } from '../../lib/index.js'
import { pollUntil } from '../../tools/wait.js'

/** Whether `n` keeps `key` in its store (owned, or its own write not handed off yet), not its near cache (as spec/replication/partition.spec.ts). */
const stores = (n: Bcache<unknown>, key: string): boolean =>
  (n as unknown as { p: { store: { live: { holds(k: string): boolean } } } }).p.store.live.holds(key)

/** `key@node` for every owner (among `nodes`) that does not store `key` with its newest value, and every non-owner that stores it. */
function misplaced(nodes: readonly Bcache<unknown>[], newest: ReadonlyMap<string, string>): string[] {
  const ids = nodes.map((n) => n.nodeId)
  const bad: string[] = []
  for (const [key, value] of newest) {
    const owners = ownersOf(key, ids, 2)
    for (const n of nodes) {
      const owner = owners.includes(n.nodeId)
      if (owner && (!stores(n, key) || n.get(key) !== value)) bad.push(`missing ${key}@${n.nodeId} (${String(n.get(key))})`)
      if (!owner && stores(n, key)) bad.push(`extra ${key}@${n.nodeId}`)
    }
  }
  return bad
}

const aliveCount = (n: Bcache<unknown>): number => n.members().filter((m) => m.state === 'alive').length

describe("Partition mode on real sockets (127.0.0.1, port 0)", function () {
  this.timeout(30_000)
  const nodes: Array<Bcache<unknown>> = []
  const opts: BcacheOptions = {
    listenAddr: '127.0.0.1:0', maxKeys: 1000, profile: 'local', mode: 'partition', replicas: 2,
    tuning: { antiEntropyIntervalMs: 200 }
  }

  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((n) => n.close()))
  })

  /** Polls until `nodes` hold every key of `newest` on its owners only; the assertion message lists what is not. */
  async function placed(live: readonly Bcache<unknown>[], newest: ReadonlyMap<string, string>, what: string): Promise<void> {
    let bad: string[] = []
    await pollUntil(() => (bad = misplaced(live, newest)).length === 0, 8_000, () => `${what}: ${bad.length} misplaced, e.g. ${bad.slice(0, 5).join('; ')}`, 20)
  }

  it('3 nodes, replicas 2: writes land on their 2 owners; fetch fills the near cache; a leave and a join rebalance', async () => {
    const a = await Bcache.create<unknown>(opts)
    nodes.push(a)
    for (let i = 0; i < 2; i++) nodes.push(await Bcache.create<unknown>({ ...opts, peers: [a.address] }))
    await pollUntil(() => nodes.every((n) => aliveCount(n) === 3), 5_000, () => 'no 3-node cluster', 5)
    const newest = new Map<string, string>()
    nodes.forEach((n, i) => {
      for (let k = 0; k < 40; k++) {
        const key = `w${i}:k${k}`
        n.set(key, `${key}=1`)
        newest.set(key, `${key}=1`)
      }
    })
    // every writer handed off the keys it does not own: on the 2 owners, not the third
    await placed(nodes, newest, 'after the hand-off')
    const ids = nodes.map((n) => n.nodeId)
    const notOwnedByWriter = [...newest.keys()].filter((k) => !ownersOf(k, ids, 2).includes(ids[Number(k.slice(1, k.indexOf(':')))]!)).length
    expect(notOwnedByWriter).to.be.above(10)
    // a writer keeps its writes of keys it does not own in its hand-off list (not its store) until both owners acknowledged them
    const handedOff = (): number => nodes.reduce((sum, n) => sum + n.stats().partition!.handedOff, 0)
    await pollUntil(() => handedOff() === notOwnedByWriter, 5000, () => `handed off ${handedOff()} of ${notOwnedByWriter}`, 20)
    expect(handedOff(), 'writers let go of what they do not own').to.equal(notOwnedByWriter)
    expect(nodes.every((n) => n.stats().partition!.pendingHandOff === 0)).to.equal(true)

    // a non-owner reads over TCP, then from its near cache; a newer write replaces the copy
    const reader = nodes[1]!
    const key = [...newest.keys()].find((k) => k.startsWith('w0:') && !ownersOf(k, ids, 2).includes(reader.nodeId))!
    expect(reader.get(key), 'a non-owner holds nothing before it fetches').to.equal(undefined)
    expect(await reader.fetch(key)).to.equal(`${key}=1`)
    expect(reader.get(key), 'kept in the near cache').to.equal(`${key}=1`)
    expect(stores(reader, key)).to.equal(false)
    const near = reader.stats().partition!
    expect(near.fetch.found).to.equal(1)
    expect(near.near.hits).to.be.at.least(1)
    nodes[0]!.set(key, `${key}=2`)
    newest.set(key, `${key}=2`)
    await pollUntil(() => reader.get(key) === `${key}=2`, 5_000, () => `near copy not replaced: ${String(reader.get(key))}`, 5)
    expect(stores(reader, key), 'the newer write passed: still not stored').to.equal(false)
    await placed(nodes, newest, 'after the newer write')

    // one leaves: the other two own every segment
    const gone = nodes.splice(2, 1)[0]!
    await gone.close()
    await pollUntil(() => nodes.every((n) => aliveCount(n) === 2), 5_000, () => 'the leave was not seen', 5)
    await placed(nodes, newest, 'after the leave')
    for (const n of nodes) for (const k of newest.keys()) expect(stores(n, k), `${k}@${n.nodeId}`).to.equal(true)

    // a 4th joins: it receives the segments it owns, the others let them go
    const d = await Bcache.create<unknown>({ ...opts, peers: [a.address] })
    nodes.push(d)
    await pollUntil(() => nodes.every((n) => aliveCount(n) === 3), 5_000, () => 'the join was not seen', 5)
    await placed(nodes, newest, 'after the join')
    const owned = [...newest.keys()].filter((k) => ownersOf(k, nodes.map((n) => n.nodeId), 2).includes(d.nodeId))
    expect(owned.length, 'the joiner owns a share of the keys').to.be.above(20)
    for (const k of owned) expect(d.get(k), k).to.equal(newest.get(k))
  })
})
