/**
 * Node tags in the member table and in `members()`: carried by alive
 * messages and push-pull, replaced only with a newer incarnation,
 * changed at runtime by `setTags` (a new incarnation, broadcast).
 */
import { expect } from 'chai'
import { MsgType } from '../../lib/wire/messages.js'
import { CacheCluster } from '../support/cache-cluster.js'
import { SELF_ADDR, SELF_ID, TableFixture, peerAddr } from './fixtures.js'

describe('Member table: tags', () => {
  it('a newer alive replaces the tags and emits update; the same incarnation changes nothing', () => {
    const f = new TableFixture()
    f.table.handleAlive({ type: MsgType.Alive, incarnation: 1, nodeId: 'p1', addr: peerAddr(1), tags: { zone: 'a' } })
    expect(f.table.get('p1')!.tags).to.deep.equal({ zone: 'a' })
    f.events.length = 0
    f.table.handleAlive({ type: MsgType.Alive, incarnation: 1, nodeId: 'p1', addr: peerAddr(1), tags: { zone: 'forged' } })
    expect(f.table.get('p1')!.tags).to.deep.equal({ zone: 'a' })
    expect(f.events).to.deep.equal([])
    f.table.handleAlive({ type: MsgType.Alive, incarnation: 2, nodeId: 'p1', addr: peerAddr(1), tags: { zone: 'b' } })
    expect(f.table.get('p1')!.tags).to.deep.equal({ zone: 'b' })
    expect(f.events.map(([e, m]) => [e, m.tags])).to.deep.equal([['update', { zone: 'b' }]])
    f.table.handleAlive({ type: MsgType.Alive, incarnation: 3, nodeId: 'p1', addr: peerAddr(1) })
    expect(f.table.get('p1')!.tags, 'an alive without tags clears them').to.deep.equal({})
  })

  it('our own tags go out in our alive; setSelfTags bumps the incarnation and broadcasts them', () => {
    const f = new TableFixture()
    f.table.broadcastSelf()
    const inc = f.table.self.incarnation
    expect(f.queued()).to.deep.equal([{ type: MsgType.Alive, incarnation: inc, nodeId: SELF_ID, addr: SELF_ADDR }])
    f.table.setSelfTags({ role: 'api' })
    expect(f.queued()).to.deep.equal([{ type: MsgType.Alive, incarnation: inc + 1, nodeId: SELF_ID, addr: SELF_ADDR, tags: { role: 'api' } }])
  })
})

describe('Bcache tags', function () {
  this.timeout(60_000)
  let cluster: CacheCluster

  afterEach(async () => {
    await cluster.closeAll()
  })

  it('members() shows every node\'s tags; setTags reaches every node', async () => {
    cluster = new CacheCluster(71)
    const [a, b, c] = await cluster.start(3, {})
    expect(a!.members().every((m) => Object.keys(m.tags).length === 0)).to.equal(true)
    const d = await cluster.add({ nodeId: 'd', tags: { zone: 'eu-west-1a', version: '1.4.2' } })
    await cluster.until(() => [a, b, c].every((n) => n!.members().some((m) => m.nodeId === 'd')), 10_000)
    for (const n of [a, b, c, d]) expect(n!.members().find((m) => m.nodeId === 'd')?.tags).to.deep.equal({ zone: 'eu-west-1a', version: '1.4.2' })
    const updates: string[] = []
    a!.on('update', (m) => updates.push(`${m.nodeId}:${JSON.stringify(m.tags)}`))
    b!.setTags({ role: 'writer' })
    const ok = await cluster.until(() => [a, c, d].every((n) => n!.members().find((m) => m.nodeId === b!.nodeId)?.tags.role === 'writer'), 10_000)
    expect(ok).to.be.at.least(0)
    expect(updates).to.deep.equal([`${b!.nodeId}:{"role":"writer"}`])
    expect(() => b!.setTags({ role: 1 } as unknown as Record<string, string>)).to.throw(TypeError, /tags/)
  })

  it('create refuses bad tags naming the option', async () => {
    cluster = new CacheCluster(72)
    const err = await cluster.add({ tags: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v'])) }).then(() => undefined, (e: unknown) => e)
    expect(err).to.be.instanceOf(RangeError)
    expect((err as Error).message).to.match(/^option tags: at most 16 tags/)
  })
})
