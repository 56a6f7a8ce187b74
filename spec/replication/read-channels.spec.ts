import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { MAX_IN_FLIGHT, ReadChannels } from '../../lib/replication/read-channels.js'
import type { StreamConn } from '../../lib/transport/transport.js'

/** A stream whose peer is the test: it sees what is sent and replies by hand. */
function fakeConn(): { conn: StreamConn; sent: Buffer[]; reply(b: Buffer): void; destroyed(): boolean } {
  let onFrame: (b: Buffer) => void = () => {}
  let destroyed = false
  const sent: Buffer[] = []
  const conn = {
    remoteAddress: 'peer:1', closed: false,
    send: (b: Uint8Array) => { sent.push(Buffer.from(b)); return true },
    drain: async () => {}, onFrame: (h: (b: Buffer) => void) => { onFrame = h }, onClose: () => {},
    close: () => {}, destroy: () => { destroyed = true }
  } as unknown as StreamConn
  return { conn, sent, reply: (b) => onFrame(b), destroyed: () => destroyed }
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r))

describe('read channels (partition mode fetch)', () => {
  it('opens one stream per peer and matches pipelined replies in order', async () => {
    const clock = new ManualClock(0)
    const f = fakeConn()
    const firsts: Buffer[] = []
    const ch = new ReadChannels(async (_addr, first) => { firsts.push(first); return f.conn }, clock, 1000)
    const a = ch.request('peer:1', Buffer.from('a'))
    const b = ch.request('peer:1', Buffer.from('b'))
    await flush()
    expect(firsts.map(String)).to.deep.equal(['a'])
    expect(f.sent.map(String)).to.deep.equal(['b'])
    f.reply(Buffer.from('A'))
    f.reply(Buffer.from('B'))
    expect(String(await a)).to.equal('A')
    expect(String(await b)).to.equal('B')
  })

  it('a reply that does not come in time fails every read on the stream; the next read opens a new one', async () => {
    const clock = new ManualClock(0)
    const conns = [fakeConn(), fakeConn()]
    let opened = 0
    const ch = new ReadChannels(async () => conns[opened++]!.conn, clock, 1000)
    const a = ch.request('peer:1', Buffer.from('a')).catch((e: Error) => e)
    const b = ch.request('peer:1', Buffer.from('b')).catch((e: Error) => e)
    await flush()
    clock.advance(1000)
    expect(String(await a)).to.match(/no reply/)
    expect(String(await b)).to.match(/no reply/)
    expect(conns[0]!.destroyed()).to.equal(true)
    const c = ch.request('peer:1', Buffer.from('c'))
    await flush()
    expect(opened).to.equal(2)
    conns[1]!.reply(Buffer.from('C'))
    expect(String(await c)).to.equal('C')
  })

  it(`holds at most ${MAX_IN_FLIGHT} reads in flight on a stream; one more waits for a slot`, async () => {
    const clock = new ManualClock(0)
    const f = fakeConn()
    const ch = new ReadChannels(async () => f.conn, clock, 1000)
    const reads = Array.from({ length: MAX_IN_FLIGHT + 1 }, (_, i) => ch.request('peer:1', Buffer.from(String(i))))
    await flush()
    expect(f.sent.length, 'the first went in the opening frame').to.equal(MAX_IN_FLIGHT - 1)
    f.reply(Buffer.from('r0'))
    await flush()
    expect(f.sent.length).to.equal(MAX_IN_FLIGHT)
    for (let i = 1; i <= MAX_IN_FLIGHT; i++) f.reply(Buffer.from(`r${i}`))
    expect((await Promise.all(reads)).map(String)).to.deep.equal(Array.from({ length: MAX_IN_FLIGHT + 1 }, (_, i) => `r${i}`))
    ch.closeAll()
  })
})
