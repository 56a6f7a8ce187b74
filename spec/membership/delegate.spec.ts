import { expect } from 'chai'
import { Cluster } from '../support/cluster.js'
import type { MembershipDelegate } from '../../lib/membership/delegate.js'
import type { StreamConn } from '../../lib/transport/transport.js'

/** A delegate that always has payloads to piggyback and records what arrives. */
class RecordingDelegate implements MembershipDelegate {
  readonly received: Buffer[] = []
  readonly merged: string[] = []
  readonly streams: Array<{ tag: number; payload: string }> = []
  maxOffered = 0
  constructor(private readonly name: string, private readonly payloadBytes = 100) {}

  getBroadcasts(overheadBytes: number, limitBytes: number): Uint8Array[] {
    this.maxOffered = Math.max(this.maxOffered, limitBytes)
    const out: Uint8Array[] = []
    let used = 0
    while (used + this.payloadBytes + overheadBytes <= limitBytes) {
      out.push(Buffer.alloc(this.payloadBytes, this.name.charCodeAt(0)))
      used += this.payloadBytes + overheadBytes
    }
    return out
  }

  notifyMsg(payload: Buffer): void {
    this.received.push(payload)
  }

  localState(join: boolean): Uint8Array {
    return Buffer.from(`${this.name}:${join ? 'join' : 'sync'}`)
  }

  mergeRemoteState(state: Buffer): void {
    this.merged.push(state.toString())
  }

  handleStream(conn: StreamConn, tag: number, payload: Buffer): void {
    this.streams.push({ tag, payload: payload.toString() })
    conn.send(Buffer.from('pong'))
    conn.close()
  }
}

describe('Membership delegate seam', function () {
  this.timeout(30_000)
  let cluster: Cluster

  afterEach(async () => {
    await cluster.closeAll()
  })

  it('piggybacks application payloads on membership packets and delivers them', async () => {
    cluster = new Cluster(31)
    const a = new RecordingDelegate('a')
    const b = new RecordingDelegate('b')
    cluster.add({ delegate: a })
    const nb = cluster.add({ delegate: b })
    await cluster.settle(nb.join([cluster.nodes[0]!.address]))
    await cluster.run(5_000)
    expect(b.received.length).to.be.greaterThan(10)
    expect(b.received.every((p) => p.length === 100 && p[0] === 'a'.charCodeAt(0))).to.equal(true)
    expect(a.received.length).to.be.greaterThan(10)
  })

  it('exchanges delegate state in push-pull (join) both ways', async () => {
    cluster = new Cluster(32)
    const a = new RecordingDelegate('a')
    const b = new RecordingDelegate('b')
    cluster.add({ delegate: a })
    const nb = cluster.add({ delegate: b })
    await cluster.settle(nb.join([cluster.nodes[0]!.address]))
    expect(a.merged).to.include('b:join')
    expect(b.merged).to.include('a:join')
  })

  it('reserves a share of each packet for application payloads while membership has a backlog', async () => {
    cluster = new Cluster(33, { tuning: { appPayloadShare: 0.5 } })
    const delegates = Array.from({ length: 8 }, (_, i) => new RecordingDelegate(String.fromCharCode(97 + i)))
    for (const d of delegates) cluster.add({ delegate: d })
    const seed = cluster.nodes[0]!.address
    // Eight joins at once give every node a membership backlog to gossip.
    await cluster.settle(Promise.all(cluster.nodes.slice(1).map((n) => n.join([seed]))))
    await cluster.run(200)
    // Even with membership messages queued, the delegate was offered at least half the room.
    const room = 1400 - 4 - 3
    for (const d of delegates) expect(d.maxOffered).to.be.at.least(Math.floor(room * 0.5) - 200)
    for (const d of delegates) expect(d.received.length).to.be.greaterThan(0)
  })

  it('routes application streams by tag to the registered handler', async () => {
    cluster = new Cluster(34)
    const b = new RecordingDelegate('b')
    const na = cluster.add()
    const nb = cluster.add({ delegate: b })
    nb.handleStreams(7, (conn, payload) => b.handleStream(conn, 7, payload))
    const conn = await cluster.settle(na.openStream(nb.address, 7, Buffer.from('hello')))
    const frames: string[] = []
    conn.onFrame((f) => frames.push(f.toString()))
    await cluster.run(100)
    expect(b.streams).to.deep.equal([{ tag: 7, payload: 'hello' }])
    expect(frames).to.deep.equal(['pong'])
  })
})
