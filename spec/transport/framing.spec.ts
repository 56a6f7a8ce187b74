import { expect } from 'chai'
import { StreamError } from '../../lib/errors.js'
import { encodeFramed, FrameDecoder, frameHeader, FrameTooLargeError } from '../../lib/transport/framing.js'

function drain(decoder: FrameDecoder): Buffer[] {
  const out: Buffer[] = []
  for (let f = decoder.next(); f !== undefined; f = decoder.next()) out.push(f)
  return out
}

function payload(n: number, seed = 1): Buffer {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 255
  return b
}

describe('framing', () => {
  it('frameHeader writes a 4-byte big-endian length', () => {
    expect(frameHeader(0)).to.deep.equal(Buffer.from([0, 0, 0, 0]))
    expect(frameHeader(0x01020304)).to.deep.equal(Buffer.from([1, 2, 3, 4]))
    expect(frameHeader(0xffffffff)).to.deep.equal(Buffer.from([255, 255, 255, 255]))
  })

  it('frameHeader rejects lengths a header cannot carry', () => {
    expect(() => frameHeader(-1)).to.throw(RangeError)
    expect(() => frameHeader(2 ** 32)).to.throw(RangeError)
    expect(() => frameHeader(1.5)).to.throw(RangeError)
  })

  it('encodeFramed prefixes the payload and copies it', () => {
    const p = Buffer.from('hello')
    const framed = encodeFramed(p)
    expect(framed).to.deep.equal(Buffer.concat([frameHeader(5), p]))
    p[0] = 0
    expect(framed.subarray(4).toString()).to.equal('hello')
  })

  it('decodes one frame in one chunk', () => {
    const d = new FrameDecoder(1024)
    d.push(encodeFramed(Buffer.from('abc')))
    expect(drain(d).map((f) => f.toString())).to.deep.equal(['abc'])
    expect(d.bufferedBytes).to.equal(0)
  })

  it('allows zero-length frames', () => {
    const d = new FrameDecoder(1024)
    d.push(Buffer.concat([encodeFramed(Buffer.alloc(0)), encodeFramed(Buffer.from('x')), encodeFramed(Buffer.alloc(0))]))
    expect(drain(d).map((f) => f.length)).to.deep.equal([0, 1, 0])
  })

  it('decodes many frames in one chunk, in order', () => {
    const d = new FrameDecoder(1024)
    const frames = Array.from({ length: 500 }, (_, i) => payload(i % 37, i))
    d.push(Buffer.concat(frames.map(encodeFramed)))
    expect(drain(d)).to.deep.equal(frames)
  })

  it('reassembles frames split at every byte boundary', () => {
    const frames = [payload(10, 1), Buffer.alloc(0), payload(3, 2), payload(300, 3)]
    const wire = Buffer.concat(frames.map(encodeFramed))
    for (let cut = 0; cut <= wire.length; cut++) {
      const d = new FrameDecoder(1024)
      d.push(wire.subarray(0, cut))
      const got = drain(d)
      d.push(wire.subarray(cut))
      got.push(...drain(d))
      expect(got, `cut at ${cut}`).to.deep.equal(frames)
    }
  })

  it('reassembles when fed one byte at a time (header split too)', () => {
    const frames = [payload(5, 1), payload(70, 2)]
    const wire = Buffer.concat(frames.map(encodeFramed))
    const d = new FrameDecoder(1024)
    const got: Buffer[] = []
    for (let i = 0; i < wire.length; i++) {
      d.push(wire.subarray(i, i + 1))
      got.push(...drain(d))
    }
    expect(got).to.deep.equal(frames)
  })

  it('handles a large frame in many chunks without quadratic cost', () => {
    const big = payload(4 * 1024 * 1024, 9)
    const wire = encodeFramed(big)
    const d = new FrameDecoder(8 * 1024 * 1024)
    const start = process.hrtime.bigint()
    let got: Buffer[] = []
    for (let i = 0; i < wire.length; i += 1000) {
      d.push(wire.subarray(i, i + 1000))
      got = got.concat(drain(d))
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    expect(got).to.have.length(1)
    expect(got[0]!.equals(big)).to.equal(true)
    expect(ms).to.be.below(2000)
  })

  it('does not hand out a view pinning a much larger chunk', () => {
    const chunk = Buffer.concat([encodeFramed(Buffer.from('tiny')), Buffer.alloc(60_000)])
    const d = new FrameDecoder(1024 * 1024)
    d.push(chunk)
    const f = d.next()!
    expect(f.toString()).to.equal('tiny')
    expect(f.buffer).to.not.equal(chunk.buffer)
  })

  it('accepts a frame of exactly maxFrameBytes', () => {
    const d = new FrameDecoder(100)
    d.push(encodeFramed(payload(100)))
    expect(drain(d)).to.have.length(1)
  })

  it('throws FrameTooLargeError (a StreamError) on an oversize header, before the payload arrives', () => {
    const d = new FrameDecoder(100)
    d.push(frameHeader(101))
    let err: unknown
    try {
      d.next()
    } catch (e) {
      err = e
    }
    expect(err).to.be.instanceOf(FrameTooLargeError)
    expect(err).to.be.instanceOf(StreamError)
    expect((err as FrameTooLargeError).frameBytes).to.equal(101)
    // the stream cannot resynchronise: later calls keep failing
    d.push(encodeFramed(Buffer.from('ok')))
    expect(() => d.next()).to.throw(FrameTooLargeError)
  })

  it('yields earlier frames before failing on an oversize one', () => {
    const d = new FrameDecoder(10)
    d.push(Buffer.concat([encodeFramed(Buffer.from('a')), frameHeader(0xffffffff)]))
    expect(d.next()!.toString()).to.equal('a')
    expect(() => d.next()).to.throw(FrameTooLargeError)
  })

  it('reports buffered bytes of a partial frame', () => {
    const d = new FrameDecoder(100)
    d.push(encodeFramed(payload(10)).subarray(0, 7))
    expect(d.next()).to.equal(undefined)
    expect(d.bufferedBytes).to.equal(7)
  })

  it('rejects a bad maxFrameBytes', () => {
    expect(() => new FrameDecoder(-1)).to.throw(RangeError)
  })
})
