import { expect } from 'chai'
import { Packr } from 'msgpackr'
import { MAX_FAILURE_MESSAGE_CHARS } from '../../lib/fill/fill-peers.js'
import { serveLease, type LeaseOwner } from '../../lib/fill/lease-client.js'
import type { StreamConn } from '../../lib/transport/transport.js'

const packr = new Packr({ useRecords: false, moreTypes: false })

class Conn implements StreamConn {
  readonly remoteAddress = '10.0.0.9:1234'
  readonly sent: Uint8Array[] = []
  outcome: 'open' | 'closed' | 'destroyed' = 'open'
  get closed(): boolean { return this.outcome !== 'open' }
  send(b: Uint8Array): boolean { this.sent.push(b); return true }
  drain(): Promise<void> { return Promise.resolve() }
  onFrame(): void {}
  onClose(): void {}
  close(): void { if (this.outcome === 'open') this.outcome = 'closed' }
  destroy(): void { if (this.outcome === 'open') this.outcome = 'destroyed' }
}

function owner(): LeaseOwner & { calls: unknown[][] } {
  const calls: unknown[][] = []
  return {
    calls,
    handleLeaseRequest: (...a) => { calls.push(['request', ...a]); return { granted: false, holder: 'h', expiresAt: 5 } },
    handleLeaseRelease: (...a) => { calls.push(['release', ...a]) },
    handleLeaseFailure: (...a) => { calls.push(['failed', ...a]) }
  }
}

function serve(msg: unknown, o: LeaseOwner = owner()): Conn {
  const conn = new Conn()
  serveLease(conn, Buffer.from(packr.pack(msg)), o)
  return conn
}

describe('serveLease (lease stream, receiving side)', () => {
  it('passes a release with and without the error of a failed fill', () => {
    const o = owner()
    expect(serve([1, 'k', 'node-a'], o).outcome).to.equal('closed')
    expect(serve([1, 'k', 'node-a', 'db down'], o).outcome).to.equal('closed')
    expect(o.calls).to.deep.equal([['release', 'node-a', 'k'], ['release', 'node-a', 'k', 'db down']])
  })

  it('passes a failure notice (op 2) to handleLeaseFailure', () => {
    const o = owner()
    expect(serve([2, 'k', 'owner-1', 'holder-2', 'db down'], o).outcome).to.equal('closed')
    expect(o.calls).to.deep.equal([['failed', 'owner-1', 'k', 'holder-2', 'db down']])
  })

  it('passes a release naming its lease (op 3) to handleLeaseRelease with the lease id', () => {
    const o = owner()
    expect(serve([3, 'k', 'holder-1', 1_700_000_010_184], o).outcome).to.equal('closed')
    expect(serve([3, 'k', 'holder-1', 1_700_000_010_185, 'boom'], o).outcome).to.equal('closed')
    expect(o.calls).to.deep.equal([['release', 'holder-1', 'k', undefined, 1_700_000_010_184], ['release', 'holder-1', 'k', 'boom', 1_700_000_010_185]])
    expect(serve([3, 'k', 'holder-1', 'not a number'], o).outcome).to.equal('destroyed')
  })

  it('cuts long messages to MAX_FAILURE_MESSAGE_CHARS', () => {
    const o = owner()
    const long = 'x'.repeat(MAX_FAILURE_MESSAGE_CHARS + 500)
    serve([1, 'k', 'a', long], o)
    serve([2, 'k', 'o', 'h', long], o)
    expect((o.calls[0]![3] as string).length).to.equal(MAX_FAILURE_MESSAGE_CHARS)
    expect((o.calls[1]![4] as string).length).to.equal(MAX_FAILURE_MESSAGE_CHARS)
  })

  const bad: Array<[string, unknown]> = [
    ['a release with a non-string error', [1, 'k', 'a', 42]],
    ['a notice without a message', [2, 'k', 'o', 'h']],
    ['a notice with an empty holder', [2, 'k', 'o', '', 'm']],
    ['a notice with an empty owner', [2, 'k', '', 'h', 'm']],
    ['a notice with a numeric message', [2, 'k', 'o', 'h', 7]],
    ['a notice with an empty key', [2, '', 'o', 'h', 'm']],
    ['an unknown op', [3, 'k', 'o', 'h', 'm']],
    ['a map', { op: 2 }]
  ]
  for (const [name, msg] of bad) {
    it(`destroys the stream on ${name}, without calling the filler`, () => {
      const o = owner()
      expect(serve(msg, o).outcome).to.equal('destroyed')
      expect(o.calls).to.deep.equal([])
    })
  }

  it('destroys the stream on bytes that are not msgpack, and never throws', () => {
    const conn = new Conn()
    expect(() => serveLease(conn, Buffer.from([0xc1, 0xff, 0x00]), owner())).not.to.throw()
    expect(conn.outcome).to.equal('destroyed')
  })

  it('closes a notice normally when the filler has no handleLeaseFailure (older node)', () => {
    const o: LeaseOwner = { handleLeaseRequest: () => ({ granted: true, expiresAt: 1 }), handleLeaseRelease: () => {} }
    expect(serve([2, 'k', 'o', 'h', 'm'], o).outcome).to.equal('closed')
  })
})
