import { expect } from 'chai'
import type { Bcache } from '../../lib/bcache.js'
import { ownersOf } from '../../lib/replication/ownership.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { KeyvBcache } from '../../lib/keyv.js'
import { NOT_DECODED } from '../../lib/store/entry.js'

/** Whether node `n` keeps `key` in its store (owned, or its own write not handed off yet), not its near cache. */
const stores = (n: Bcache<unknown>, key: string): boolean =>
  (n as unknown as { p: { store: { live: { holds(k: string): boolean } } } }).p.store.live.holds(key)

const ids = (nodes: readonly Bcache<unknown>[]): string[] => nodes.map((n) => n.nodeId)

/** Keys held in a store by other nodes than their owners among `nodes`, and owners missing them. */
function misplaced(nodes: readonly Bcache<unknown>[], keys: readonly string[], replicas: number): { extra: string[]; missing: string[] } {
  const extra: string[] = []
  const missing: string[] = []
  for (const key of keys) {
    const owners = ownersOf(key, ids(nodes), replicas)
    for (const n of nodes) {
      const owner = owners.includes(n.nodeId)
      if (owner && !stores(n, key)) missing.push(`${key}@${n.nodeId}`)
      if (!owner && stores(n, key)) extra.push(`${key}@${n.nodeId}`)
    }
  }
  return { extra, missing }
}

const KEYS = Array.from({ length: 300 }, (_, i) => `key-${i}`)

describe("Partition mode (mode: 'partition', cluster)", function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster?.closeAll()
  })

  it('each key ends on its replicas owners only, and every node reads it (fetch, then near cache)', async () => {
    cluster = new CacheCluster(81, { mode: 'partition', replicas: 2 })
    const nodes = await cluster.start(4)
    for (const k of KEYS) nodes[0]!.set(k, `v-${k}`)
    await cluster.run(6000) // pushes, then the writer's hand-off of what it does not own
    expect(misplaced(nodes, KEYS, 2)).to.deep.equal({ extra: [], missing: [] })
    const reader = nodes[3]!
    const notOwned = KEYS.find((k) => !ownersOf(k, ids(nodes), 2).includes(reader.nodeId))!
    expect(reader.get(notOwned)).to.equal(undefined)
    expect(await cluster.settle(reader.fetch(notOwned))).to.equal(`v-${notOwned}`)
    expect(reader.get(notOwned), 'kept in the near cache').to.equal(`v-${notOwned}`)
    expect(reader.has(notOwned)).to.equal(true)
    expect(reader.peek(notOwned)).to.equal(`v-${notOwned}`)
    expect(reader.delete(notOwned), 'delete reports the near copy it dropped').to.equal(true)
    expect(reader.get(notOwned)).to.equal(undefined)
    await cluster.run(200)
    expect(nodes.some((n) => stores(n, notOwned))).to.equal(false)
    expect(stores(reader, notOwned)).to.equal(false)
    expect(reader.stats().partition!.fetch.found).to.equal(1)
    expect(reader.stats().partition!.near.hits).to.equal(1)
  })

  it('a newer write replaces a near-cache copy, and a delete drops it', async () => {
    cluster = new CacheCluster(82, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    const [a] = nodes
    const b = nodes.find((n) => n !== a && !ownersOf('row', ids(nodes), 1).includes(n.nodeId))!
    a!.set('row', 'one')
    await cluster.run(200)
    expect(await cluster.settle(b.fetch('row'))).to.equal('one')
    a!.set('row', 'two')
    await cluster.run(200)
    expect(b.get('row')).to.equal('two')
    a!.delete('row')
    await cluster.run(200)
    expect(b.get('row')).to.equal(undefined)
    expect(await cluster.settle(b.fetch('row'))).to.equal(undefined)
  })

  it('a joiner receives the segments it now owns, and nodes that lost them let go', async () => {
    cluster = new CacheCluster(83, { mode: 'partition', replicas: 2 })
    const nodes = await cluster.start(3)
    for (const k of KEYS) nodes[1]!.set(k, k)
    await cluster.run(6000)
    expect(misplaced(nodes, KEYS, 2)).to.deep.equal({ extra: [], missing: [] })
    const d = await cluster.add()
    await cluster.until(() => cluster.nodes.every((n) => n.members().length === 4), 10_000)
    await cluster.run(8000)
    expect(misplaced(cluster.nodes, KEYS, 2)).to.deep.equal({ extra: [], missing: [] })
    const owned = KEYS.filter((k) => ownersOf(k, ids(cluster.nodes), 2).includes(d.nodeId))
    expect(owned.length).to.be.above(100)
    for (const k of owned) expect(d.get(k)).to.equal(k)
  })

  it('after a node fails, every key is held by replicas live owners again', async () => {
    cluster = new CacheCluster(84, { mode: 'partition', replicas: 2 })
    const nodes = await cluster.start(4)
    for (const k of KEYS) nodes[0]!.set(k, k)
    await cluster.run(6000)
    const dead = nodes[2]!
    await cluster.settle(dead.close())
    const live = nodes.filter((n) => n !== dead)
    await cluster.until(() => live.every((n) => n.members().filter((m) => m.state === 'alive').length === 3), 30_000)
    await cluster.run(8000)
    expect(misplaced(live, KEYS, 2)).to.deep.equal({ extra: [], missing: [] })
  })

  it('a miss on a non-owner reads the owner before it fills: the filler runs once in the cluster', async () => {
    cluster = new CacheCluster(85, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    let calls = 0
    const filler = (): string => { calls++; return 'db' }
    expect(await cluster.settle(nodes[0]!.getWithFiller('row', filler))).to.equal('db')
    await cluster.run(200)
    for (const n of nodes) expect(await cluster.settle(n.getWithFiller('row', filler))).to.equal('db')
    expect(calls).to.equal(1)
  })

  it('capacity grows with the cluster: 10 nodes of maxKeys 1000 hold more than 4500 distinct keys at replicas 2', async () => {
    cluster = new CacheCluster(86, { mode: 'partition', replicas: 2, maxKeys: 1000 })
    const nodes = await cluster.start(10)
    const keys = Array.from({ length: 4500 }, (_, i) => `cap-${i}`)
    for (let i = 0; i < keys.length; i++) {
      nodes[i % 10]!.set(keys[i]!, i)
      if (i % 100 === 99) await cluster.run(50)
    }
    await cluster.run(8000)
    const held = keys.filter((k) => nodes.some((n) => stores(n, k)))
    expect(held.length).to.equal(keys.length)
    expect(misplaced(nodes, keys, 2).missing.length, 'owners that lost a key to their own LRU').to.be.below(keys.length * 0.01)
  })

  it('a malformed segment round or read from a peer is dropped and counted; the node goes on', async () => {
    cluster = new CacheCluster(88, { mode: 'partition', replicas: 2 })
    const [a, b] = await cluster.start(2)
    const open = (b as unknown as { p: { membership: { openStream(addr: string, tag: number, p: Uint8Array): Promise<{ destroy(): void }> } } }).p.membership
    for (const [tag, payload] of [[6, Buffer.from([0x93, 0xc0, 0xc0, 0xc0])], [7, Buffer.from([0x01])]] as const) {
      const conn = await cluster.settle(open.openStream(a!.address, tag, payload))
      await cluster.run(50)
      conn.destroy()
    }
    expect(a!.stats().dropped).to.include.keys('segment-sync', 'fetch-request')
    b!.set('after', 1)
    await cluster.run(200)
    expect(await cluster.settle(a!.fetch('after'))).to.equal(1)
  })

  it('setAcked counts the key\'s owners: all resolves once both hold it, more than replicas is refused', async () => {
    cluster = new CacheCluster(89, { mode: 'partition', replicas: 2 })
    const nodes = await cluster.start(4)
    const key = 'acked-row'
    const writer = nodes.find((n) => !ownersOf(key, ids(nodes), 2).includes(n.nodeId))!
    await cluster.settle(writer.setAcked(key, 'v', { acks: 'all', timeoutMs: 2000 }))
    for (const n of nodes) expect(stores(n, key), n.nodeId).to.equal(ownersOf(key, ids(nodes), 2).includes(n.nodeId))
    expect(writer.get(key), 'visible on the writer').to.equal('v')
    let err: unknown
    await cluster.settle(writer.setAcked(key, 'w', { acks: 3, timeoutMs: 2000 }).catch((e: unknown) => { err = e }))
    expect(err).to.have.property('reason', 'too-few-members')
  })

  it('a node that closes hands its own writes of keys it does not own to their owners first', async () => {
    cluster = new CacheCluster(90, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    const [w, ...others] = nodes
    const keys = KEYS.filter((k) => !ownersOf(k, ids(nodes), 1).includes(w!.nodeId)).slice(0, 30)
    for (const o of others) cluster.net.setLinkConditions(w!.address, o.address, { lossRate: 1 }) // no datagram leaves w: its pushes are lost
    for (const k of keys) w!.set(k, `${k}!`)
    expect(w!.stats().partition!.pendingHandOff).to.equal(keys.length)
    await cluster.settle(w!.close())
    for (const k of keys) {
      const owner = others.find((o) => ownersOf(k, ids(nodes), 1).includes(o.nodeId))!
      expect(owner.get(k), k).to.equal(`${k}!`)
    }
  })

  it('the Keyv store reads a key this node does not hold from its owner', async () => {
    cluster = new CacheCluster(91, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    const key = 'keyv-row'
    const [owner] = ownersOf(key, ids(nodes), 1)
    const reader = nodes.find((n) => n.nodeId !== owner)!
    nodes.find((n) => n.nodeId === owner)!.set(key, 'from the owner')
    await cluster.run(200)
    expect(reader.get(key)).to.equal(undefined)
    const store = new KeyvBcache(reader)
    expect(await cluster.settle(store.get(key))).to.equal('from the owner')
    expect(await cluster.settle(store.getMany([key, 'absent']))).to.deep.equal(['from the owner', undefined])
  })

  it('with replicas 1, a node that closes gracefully hands the keys it owns to their next owners first', async () => {
    cluster = new CacheCluster(92, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    for (const k of KEYS) nodes[0]!.set(k, k)
    await cluster.run(6000)
    const leaving = nodes[1]!
    const owned = KEYS.filter((k) => ownersOf(k, ids(nodes), 1)[0] === leaving.nodeId)
    expect(owned.length).to.be.above(50)
    await cluster.settle(leaving.close())
    const rest = nodes.filter((n) => n !== leaving)
    for (const k of owned) {
      const next = rest.find((n) => n.nodeId === ownersOf(k, ids(rest), 1)[0])!
      expect(next.get(k), `${k} on ${next.nodeId}`).to.equal(k)
    }
  })

  it('a value from an owner that does not decode is dropped and counted: fetch answers undefined', async () => {
    cluster = new CacheCluster(93, { mode: 'partition', replicas: 1 })
    const nodes = await cluster.start(3)
    const key = 'bad-value'
    const [ownerId] = ownersOf(key, ids(nodes), 1)
    const owner = nodes.find((n) => n.nodeId === ownerId)!
    const reader = nodes.find((n) => n.nodeId !== ownerId)!
    const store = (owner as unknown as { p: { store: { apply(e: unknown, now: number): string } } }).p.store
    // 0xc1 is never used in msgpack: a peer's value this node cannot decode
    expect(store.apply({ key, bytes: Buffer.from([0xc1]), value: NOT_DECODED, version: { wall: Date.now(), counter: 0, origin: 'zzzzzzzz' }, seq: 1, expiresAt: 0, tombstone: false }, Date.now())).to.equal('applied')
    expect(await cluster.settle(reader.fetch(key))).to.equal(undefined)
    expect(reader.stats().dropped).to.have.property('fetch-value', 1)
  })

  it("refuses partition options in the other modes", async () => {
    cluster = new CacheCluster(87)
    let err: unknown
    try {
      await cluster.add({ replicas: 2 })
    } catch (e) {
      err = e
    }
    expect(String(err)).to.match(/option replicas: applies only to mode 'partition'/)
  })
})
