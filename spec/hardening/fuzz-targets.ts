/**
 * The decoders under fuzz, their corpora of valid inputs, and the input
 * generators (random bytes, msgpack-biased bytes, single mutations of valid
 * inputs). Shared by the seeded specs (`*.spec.ts` here) and by the
 * million-case run (`benchmarks/fuzz.ts`).
 *
 * Every target returns an outcome string: `ok` when the input was accepted
 * (and the result passed an independent check), otherwise the drop reason.
 * A target throws only when the property under test is broken: an exception
 * other than the documented one escaped, a decoded result is malformed, or
 * a mutated envelope was accepted (a forgery).
 */
import { decodeRelayHeader, encodeRelayHeader } from '../../lib/replication/relay-push.js'
import { Packr } from 'msgpackr'
import { decodeBatch, decodeDelta, encodeBatch, encodeDelta, MAX_KEY_BYTES, type Delta } from '../../lib/replication/delta.js'
import { serveLease, type LeaseOwner } from '../../lib/fill/lease-client.js'
import { decodeSeen, encodeSeen } from '../../lib/replication/seen-vector.js'
import { SeqRanges } from '../../lib/store/seq-ranges.js'
import type { Random } from '../../lib/random.js'
import { NonceSequence, openEnvelope, sealEnvelope, type EnvelopePolicy } from '../../lib/transport/envelope.js'
import type { StreamConn } from '../../lib/transport/transport.js'
import { buildPacket, decodeFrame, decodePacket, DecodeError, encodeFrame, encodeMessage } from '../../lib/wire/codec.js'
import { expectWellFormed, packetSamples, streamSamples } from '../wire/wire-fixtures.js'

/** One decoder under fuzz. */
export interface FuzzTarget {
  name: string
  /** Valid inputs, mutated by the generator. */
  corpus: Buffer[]
  /** A first byte sequence random inputs start with sometimes (reach past header checks). */
  prefix: Buffer
  /** Runs the decoder on `data`; returns the outcome; throws only on a broken property. */
  run(data: Buffer): string
}

const packr = new Packr({ useRecords: false, moreTypes: false })

/** Outcome of a decoder that must throw DecodeError and nothing else. */
function decodeOutcome(name: string, data: Buffer, fn: () => void): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    if (err instanceof DecodeError) return err.reason
    throw new Error(`${name}: ${data.toString('hex').slice(0, 160)} threw ${String(err)}`, { cause: err })
  }
}

function checkDelta(d: Delta): void {
  if (typeof d.key !== 'string' || d.key.length === 0 || Buffer.byteLength(d.key) > MAX_KEY_BYTES) throw new Error('malformed delta key')
  if (d.bytes !== undefined && !Buffer.isBuffer(d.bytes)) throw new Error('malformed delta value')
  if (!Number.isSafeInteger(d.seq) || d.seq < 1 || !Number.isSafeInteger(d.expiresAt) || d.expiresAt < 0) throw new Error('malformed delta numbers')
}

const version = { wall: 1_700_000_000_000, counter: 3, origin: 'a1b2c3d4e5f6' }
const deltas = [
  encodeDelta('k', Buffer.from('value'), version, 1, 0),
  encodeDelta('user:42', Buffer.from(packr.pack({ name: 'x', n: [1, 2, 3] })), version, 2 ** 40, 1_700_000_060_000),
  encodeDelta('gone', undefined, { ...version, counter: 0 }, 7, 0),
  encodeDelta('ü€😀'.repeat(20), Buffer.alloc(300, 7), version, 99, 0)
]

/** A stream end that records what the server side did with it. */
class RecordingConn implements StreamConn {
  readonly remoteAddress = '10.0.0.9:1234'
  closed = false
  outcome = 'open'
  send(): boolean { return !this.closed }
  drain(): Promise<void> { return Promise.resolve() }
  onFrame(): void {}
  onClose(): void {}
  close(): void { if (!this.closed) this.outcome = this.outcome === 'open' ? 'closed' : this.outcome; this.closed = true }
  destroy(): void { if (!this.closed) this.outcome = 'destroyed'; this.closed = true }
}

const leaseOwner: LeaseOwner = {
  handleLeaseRequest(fromId, key, leaseMs) {
    if (typeof fromId !== 'string' || fromId === '' || typeof key !== 'string' || key === '' || !(leaseMs > 0)) throw new Error('bad lease request reached the owner')
    return { granted: true, expiresAt: 1 }
  },
  handleLeaseRelease(fromId, key) {
    if (typeof fromId !== 'string' || fromId === '' || typeof key !== 'string' || key === '') throw new Error('bad lease release reached the owner')
  }
}

/** The fixed keys and label of the envelope target. */
export const FUZZ_KEYS = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)]
export const FUZZ_LABEL = Buffer.from('fuzz-cluster')

/** Every decoder target. */
export function fuzzTargets(): FuzzTarget[] {
  const packets = [
    buildPacket(packetSamples.slice(0, 9).map(encodeMessage)),
    ...packetSamples.map((m) => buildPacket([encodeMessage(m)]))
  ]
  const frames = streamSamples.map(encodeFrame).filter((f) => f.length < 2000)
  const seenMap = new Map([['a1b2c3d4e5f6', { ranges: SeqRanges.fromRanges([[1, 10], [12, 40]]), lossy: false }], ['ffff', { ranges: SeqRanges.fromRanges([[3, 3]]), lossy: true }]])
  const policy: EnvelopePolicy = { keys: FUZZ_KEYS, label: FUZZ_LABEL, allowPlaintext: false }
  const nonces = new NonceSequence()
  const sealedPayloads = [...packets.slice(0, 4), ...frames.slice(0, 3)].map((p) => p.subarray(4))
  const sealed = sealedPayloads.map((p, i) => sealEnvelope(p, 1, FUZZ_LABEL, FUZZ_KEYS[i % 2], nonces))
  const sealedSet = new Map(sealed.map((s, i) => [s.toString('hex'), sealedPayloads[i]!]))
  return [
    {
      name: 'datagram', corpus: packets, prefix: Buffer.from([0xbc, 0xac, 1, 0]),
      run: (d) => decodeOutcome('datagram', d, () => { for (const m of decodePacket(d)) expectWellFormed(m, 'packet') })
    },
    {
      name: 'frame', corpus: frames, prefix: Buffer.from([1]),
      run: (d) => decodeOutcome('frame', d, () => expectWellFormed(decodeFrame(d), 'stream'))
    },
    {
      name: 'delta', corpus: deltas, prefix: Buffer.from([0x97]),
      run: (d) => decodeOutcome('delta', d, () => checkDelta(decodeDelta(d)))
    },
    {
      name: 'batch', corpus: [encodeBatch(deltas), encodeBatch(deltas.slice(1, 3))], prefix: Buffer.from([0xdd, 0, 0, 0]),
      run: (d) => decodeOutcome('batch', d, () => { for (const x of decodeBatch(d)) checkDelta(x) })
    },
    {
      name: 'seen-vector', corpus: [encodeSeen(seenMap), encodeSeen(new Map())], prefix: Buffer.from([0x92, 0x92]),
      run: (d) => decodeOutcome('seen-vector', d, () => { decodeSeen(d) })
    },
    {
      name: 'relay-header', corpus: [encodeRelayHeader(32, 5), encodeRelayHeader(2, 1)], prefix: Buffer.from([0x93]),
      run: (d) => decodeOutcome('relay-header', d, () => {
        const h = decodeRelayHeader(d)
        if (!(Number.isInteger(h.k) && h.k >= 1 && Number.isInteger(h.count) && h.count >= 1)) throw new Error(`relay header decoded malformed: ${JSON.stringify(h)}`)
      })
    },
    {
      name: 'lease', prefix: Buffer.from([0x94, 0x00]),
      corpus: [Buffer.from(packr.pack([0, 'user:42', 10_000, 'node-a'])), Buffer.from(packr.pack([1, 'user:42', 'node-a']))],
      run: (d) => {
        const conn = new RecordingConn()
        serveLease(conn, d, leaseOwner) // must never throw
        return conn.outcome === 'closed' ? 'ok' : conn.outcome
      }
    },
    {
      name: 'envelope', corpus: sealed, prefix: Buffer.from([0xbc, 0xac, 1, 3, FUZZ_LABEL.length, ...FUZZ_LABEL]),
      run: (d) => {
        if (d.length < 4 || d[0] !== 0xbc || d[1] !== 0xac || d[2] !== 1) return 'not-envelope'
        const r = openEnvelope(d, policy)
        if (typeof r === 'string') return r
        const original = sealedSet.get(d.toString('hex'))
        if (original === undefined || !original.equals(r.payload)) throw new Error(`forged envelope accepted: ${d.toString('hex').slice(0, 160)}`)
        return 'ok'
      }
    }
  ]
}

export function randomBytes(random: Random, max: number): Buffer {
  const b = Buffer.alloc(Math.floor(random() * max))
  for (let i = 0; i < b.length; i++) b[i] = Math.floor(random() * 256)
  return b
}

const INTERESTING = [0x90, 0x91, 0x92, 0x95, 0x97, 0xdc, 0xdd, 0xc4, 0xc5, 0xc6, 0xa1, 0xa3, 0xd9, 0xcc, 0xcd,
  0xce, 0xcf, 0xcb, 0xd3, 0xc0, 0xc2, 0xc3, 0x00, 0x01, 0x07, 0x08, 0xff, 0xd4, 0xd6, 0x81, 0xc1, 0x7f, 0xe0]

/** Random bytes biased toward msgpack container, string and length tokens. */
export function randomMsgpackish(random: Random, max: number): Buffer {
  const b = randomBytes(random, max)
  for (let i = 0; i < b.length; i++) if (random() < 0.5) b[i] = INTERESTING[Math.floor(random() * INTERESTING.length)]!
  return b
}

/** One to three mutations of `src`: byte set, bit flip, truncation, insertion, deletion, splice of a big length. */
export function mutate(random: Random, src: Buffer): Buffer {
  let b = Buffer.from(src)
  const rounds = 1 + Math.floor(random() * random() * 3)
  for (let r = 0; r < rounds && b.length > 0; r++) {
    const i = Math.floor(random() * b.length)
    switch (Math.floor(random() * 6)) {
      case 0: b[i] = Math.floor(random() * 256); break
      case 1: b[i] = b[i]! ^ (1 << Math.floor(random() * 8)); break
      case 2: b = b.subarray(0, i); break
      case 3: b = Buffer.concat([b.subarray(0, i), Buffer.from([Math.floor(random() * 256)]), b.subarray(i)]); break
      case 4: b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]); break
      default: b = Buffer.concat([b.subarray(0, i), Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xf0]), b.subarray(i)])
    }
  }
  return b
}

/** One generated input for `t`: 30 % random (half behind the target's prefix), 70 % mutations. */
export function generate(random: Random, t: FuzzTarget): Buffer {
  const r = random()
  if (r < 0.1) return randomBytes(random, 64)
  if (r < 0.3) return Buffer.concat([t.prefix, randomMsgpackish(random, 64)])
  return mutate(random, t.corpus[Math.floor(random() * t.corpus.length)]!)
}
