/**
 * Spoofing and replay by an outsider on the network (a bare transport, no
 * key needed in a keyless cluster): accusations about a live member, with
 * its current incarnation or a huge one, in the name of another member, are
 * refuted and the member stays alive everywhere. With keys, the outsider's
 * datagrams do not even reach membership.
 */
import { expect } from 'chai'
import { buildPacket, encodeMessage } from '../../lib/wire/codec.js'
import { MsgType, type PacketMsg } from '../../lib/wire/messages.js'
import { MAX_ACCUSED_INCARNATION } from '../../lib/membership/member-table.js'
import { CacheCluster } from '../support/cache-cluster.js'

describe('hardening: spoofed accusations', function () {
  this.timeout(60_000)

  async function attack(secretKeys: Buffer[] | undefined, accusations: (inc: number) => PacketMsg[]): Promise<CacheCluster> {
    const c = new CacheCluster(21, secretKeys === undefined ? {} : { secretKeys })
    const nodes = await c.start(3)
    const outsider = c.net.bind('10.66.0.1:7946')
    outsider.onPacket(() => {})
    const victim = nodes[1]!
    const inc = victim.members().find((m) => m.nodeId === victim.nodeId)!.incarnation
    const packet = buildPacket(accusations(inc).map(encodeMessage))
    for (let round = 0; round < 5; round++) {
      for (const n of nodes) outsider.sendPacket(n.address, packet) // replayed to everyone, several times
      await c.run(300)
    }
    await c.run(10_000)
    return c
  }

  const aliveEverywhere = (c: CacheCluster, id: string): boolean =>
    c.nodes.every((n) => n.members().find((m) => m.nodeId === id)?.state === 'alive')

  it('Suspect and Dead with the current incarnation, in another member\'s name: refuted, alive everywhere', async () => {
    const c = await attack(undefined, (inc) => [
      { type: MsgType.Suspect, incarnation: inc, nodeId: 'n1', fromId: 'n0' },
      { type: MsgType.Dead, incarnation: inc, nodeId: 'n1', fromId: 'n2' }
    ])
    expect(aliveEverywhere(c, 'n1')).to.equal(true)
    const incs = c.nodes.map((n) => n.members().find((m) => m.nodeId === 'n1')!.incarnation)
    expect(new Set(incs).size).to.equal(1)
    for (const n of c.nodes) expect(n.stats().dropped['handler-error'] ?? 0).to.equal(0)
    await c.closeAll()
  })

  it('Dead with a huge incarnation: the refutation raises above it; beyond 2^52 accusations are ignored', async () => {
    const c = await attack(undefined, () => [
      { type: MsgType.Dead, incarnation: MAX_ACCUSED_INCARNATION, nodeId: 'n1', fromId: 'n0' },
      { type: MsgType.Dead, incarnation: Number.MAX_SAFE_INTEGER, nodeId: 'n2', fromId: 'n0' }
    ])
    expect(aliveEverywhere(c, 'n1')).to.equal(true)
    expect(aliveEverywhere(c, 'n2')).to.equal(true)
    expect(c.nodes[1]!.members().find((m) => m.nodeId === 'n1')!.incarnation).to.be.greaterThan(MAX_ACCUSED_INCARNATION)
    expect(c.nodes[0]!.stats().dropped['incarnation-range']).to.be.greaterThan(0)
    await c.closeAll()
  })

  it('with secretKeys, the outsider\'s accusations are dropped before membership (decrypt-less: plaintext-refused)', async () => {
    const c = await attack([Buffer.alloc(32, 5)], (inc) => [{ type: MsgType.Dead, incarnation: inc + 5, nodeId: 'n1', fromId: 'n0' }])
    expect(aliveEverywhere(c, 'n1')).to.equal(true)
    expect(c.nodes[1]!.members().find((m) => m.nodeId === 'n1')!.incarnation).to.be.lessThan(MAX_ACCUSED_INCARNATION)
    for (const n of c.nodes) expect(n.stats().dropped['plaintext-refused']).to.equal(5)
    await c.closeAll()
  })
})
