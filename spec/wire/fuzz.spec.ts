/**
 * Seeded fuzzing of the decoders: random byte strings and single mutations
 * of valid datagrams and frames. The only acceptable failure is a
 * DecodeError with a documented reason; anything that decodes must be
 * well-formed.
 */
import { expect } from 'chai'
import {
  DROP_REASONS,
  DecodeError,
  buildPacket,
  decodeFrame,
  decodePacket,
  encodeFrame,
  encodeMessage
} from '../../lib/wire/codec.js'
import { seededRandom, type Random } from '../../lib/random.js'
import { expectWellFormed, packetSamples, streamSamples } from './wire-fixtures.js'

const ITERATIONS = 20_000
const REASONS: ReadonlySet<string> = new Set(DROP_REASONS)

/** Decodes `data`; returns 'ok' or the drop reason; fails the test on any other throw or a malformed result. */
function probe(kind: 'packet' | 'stream', data: Buffer): string {
  try {
    if (kind === 'packet') for (const m of decodePacket(data)) expectWellFormed(m, 'packet')
    else expectWellFormed(decodeFrame(data), 'stream')
    return 'ok'
  } catch (err) {
    if (!(err instanceof DecodeError)) {
      throw new Error(`${kind} ${data.toString('hex').slice(0, 200)} threw ${String(err)}`, { cause: err })
    }
    if (!REASONS.has(err.reason)) throw new Error(`undocumented reason ${err.reason}`)
    return err.reason
  }
}

function randomBytes(random: Random, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(random() * max))
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256)
  return b
}

/** Biased toward msgpack tokens that open containers, strings and lengths, so bodies get past the first byte. */
function randomMsgpackish(random: Random, max: number): Buffer {
  const interesting = [0x90, 0x91, 0x92, 0x95, 0x97, 0xdc, 0xdd, 0xc4, 0xc5, 0xc6, 0xa1, 0xa3, 0xd9, 0xcc, 0xcd,
    0xce, 0xcf, 0xcb, 0xd3, 0xc0, 0xc2, 0xc3, 0x00, 0x01, 0x07, 0x08, 0xff, 0xd4, 0xd6, 0x81, 0xc1]
  const b = randomBytes(random, max)
  for (let i = 0; i < b.length; i++) if (random() < 0.5) b[i] = interesting[Math.floor(random() * interesting.length)]!
  return b
}

function mutate(random: Random, src: Buffer): Buffer {
  const b = Buffer.from(src)
  const i = Math.floor(random() * b.length)
  switch (Math.floor(random() * 5)) {
    case 0: b[i] = Math.floor(random() * 256); return b
    case 1: b[i] = b[i]! ^ (1 << Math.floor(random() * 8)); return b
    case 2: return b.subarray(0, i)
    case 3: return Buffer.concat([b.subarray(0, i), Buffer.from([Math.floor(random() * 256)]), b.subarray(i)])
    default: return Buffer.concat([b.subarray(0, i), b.subarray(i + 1)])
  }
}

describe('decoder fuzz (seeded)', function () {
  this.timeout(10_000)

  const packets = [
    buildPacket(packetSamples.slice(0, 9).map(encodeMessage)),
    buildPacket(packetSamples.map(encodeMessage)),
    ...packetSamples.map((m) => buildPacket([encodeMessage(m)]))
  ]
  const frames = streamSamples.map(encodeFrame).filter((f) => f.length < 2000)

  it(`${ITERATIONS} random byte strings only ever raise DecodeError`, () => {
    const random = seededRandom(1)
    const seen = new Map<string, number>()
    for (let n = 0; n < ITERATIONS; n++) {
      const r = random()
      let data: Buffer
      let kind: 'packet' | 'stream' = 'packet'
      if (r < 0.2) data = randomBytes(random, 64)
      else if (r < 0.6) data = Buffer.concat([Buffer.from([0xbc, 0xac, 1, 0]), randomMsgpackish(random, 48)])
      else {
        kind = 'stream'
        data = Buffer.concat([Buffer.from([1]), randomMsgpackish(random, 48)])
      }
      const reason = probe(kind, data)
      seen.set(reason, (seen.get(reason) ?? 0) + 1)
    }
    // the generator reaches deep into the decoder, not just the header checks
    for (const r of ['short', 'magic', 'msgpack', 'trailing', 'shape', 'type', 'field']) expect(seen.get(r), r).to.be.greaterThan(0)
    if (process.env.FUZZ_STATS) console.log(seen)
  })

  it(`${ITERATIONS} single mutations and truncations of valid datagrams and frames`, () => {
    const random = seededRandom(2)
    const seen = new Map<string, number>()
    for (let n = 0; n < ITERATIONS; n++) {
      const isPacket = random() < 0.6
      const corpus = isPacket ? packets : frames
      const src = corpus[Math.floor(random() * corpus.length)]!
      const reason = probe(isPacket ? 'packet' : 'stream', mutate(random, src))
      seen.set(reason, (seen.get(reason) ?? 0) + 1)
    }
    expect(seen.get('ok')).to.be.greaterThan(100) // many mutations land in payloads and stay valid
    for (const r of ['msgpack', 'trailing', 'field']) expect(seen.get(r), r).to.be.greaterThan(0)
    if (process.env.FUZZ_STATS) console.log(seen)
  })
})
