/**
 * Node tags on the wire (wire/tags.ts): appended to Alive and push-pull
 * rows only when present, validated strictly when present, the same bounds
 * for the option check and the decoder.
 */
import { expect } from 'chai'
import { decodeFrame, decodePacket, encodeFrame, encodeMessage, buildPacket } from '../../lib/wire/codec.js'
import { MsgType, type AliveMsg, type PushPullMsg } from '../../lib/wire/messages.js'
import { MAX_TAGS, MAX_TAGS_BYTES, checkTags, sameTags } from '../../lib/wire/tags.js'
import { frameOf, packetOf, reasonOf } from './wire-fixtures.js'

const pkt = (...messages: unknown[]): string => reasonOf(() => decodePacket(packetOf(...messages)))
const frm = (message: unknown): string => reasonOf(() => decodeFrame(frameOf(message)))

describe('tags on the wire', () => {
  it('an Alive with tags round-trips; without tags it is byte-for-byte the old 4-field message', () => {
    const tagged: AliveMsg = { type: MsgType.Alive, incarnation: 3, nodeId: 'a', addr: '10.0.0.1:7946', tags: { zone: 'eu-1', v: '2' } }
    expect(decodePacket(buildPacket([encodeMessage(tagged)]))).to.deep.equal([tagged])
    const plain: AliveMsg = { type: MsgType.Alive, incarnation: 3, nodeId: 'a', addr: '10.0.0.1:7946' }
    expect(encodeMessage(plain)).to.deep.equal(encodeMessage({ ...plain, tags: {} }))
    expect(decodePacket(packetOf([5, 3, 'a', '10.0.0.1:7946']))).to.deep.equal([plain])
  })

  it('push-pull rows carry tags; rows without them decode as before', () => {
    const msg: PushPullMsg = {
      type: MsgType.PushPull, join: true, userState: Buffer.alloc(0),
      nodes: [{ nodeId: 'a', addr: 'a:1', incarnation: 1, state: 0, tags: { role: 'api' } }, { nodeId: 'b', addr: 'b:1', incarnation: 2, state: 1 }]
    }
    expect(decodeFrame(encodeFrame(msg))).to.deep.equal(msg)
  })

  it('fields after the tags are ignored (forward compatibility)', () => {
    expect(decodePacket(packetOf([5, 1, 'a', 'a:1', ['k', 'v'], 'future', 7]))).to.deep.equal([
      { type: MsgType.Alive, incarnation: 1, nodeId: 'a', addr: 'a:1', tags: { k: 'v' } }
    ])
  })

  it('rejects malformed or oversized tag sets (field)', () => {
    expect(pkt([5, 1, 'a', 'a:1', ['k']]), 'odd length').to.equal('field')
    expect(pkt([5, 1, 'a', 'a:1', ['', 'v']]), 'empty key').to.equal('field')
    expect(pkt([5, 1, 'a', 'a:1', ['k', 1]]), 'number value').to.equal('field')
    expect(pkt([5, 1, 'a', 'a:1', ['k', 'v', 'k', 'w']]), 'duplicate key').to.equal('field')
    expect(pkt([5, 1, 'a', 'a:1', ['k', ['v']]]), 'nested').to.equal('field')
    const many = Array.from({ length: MAX_TAGS + 1 }, (_, i) => [`k${i}`, 'v']).flat()
    expect(pkt([5, 1, 'a', 'a:1', many]), 'too many').to.equal('field')
    expect(pkt([5, 1, 'a', 'a:1', ['k', 'x'.repeat(MAX_TAGS_BYTES)]]), 'too large').to.equal('field')
    expect(decodePacket(packetOf([5, 1, 'a', 'a:1', ['k', 'x'.repeat(MAX_TAGS_BYTES - 1)]])), 'at the bound').to.have.length(1)
    expect(frm([8, true, [['a', 'a:1', 1, 0, ['k']]], Buffer.alloc(0)]), 'row').to.equal('field')
  })

  it('a "__proto__" key is a plain key, not a prototype', () => {
    const [m] = decodePacket(packetOf([5, 1, 'a', 'a:1', ['__proto__', 'x']])) as AliveMsg[]
    expect(Object.getPrototypeOf(m!.tags)).to.equal(Object.prototype)
    expect(Object.keys(m!.tags!)).to.deep.equal(['__proto__'])
  })

  it('checkTags: the option bounds, with errors naming it; a frozen copy', () => {
    const given = { zone: 'eu' }
    const t = checkTags(given, 'option tags:')
    given.zone = 'us'
    expect(t).to.deep.equal({ zone: 'eu' })
    expect(Object.isFrozen(t)).to.equal(true)
    expect(() => checkTags('zone=eu', 'option tags:')).to.throw(TypeError, /^option tags: must be an object/)
    expect(() => checkTags({ k: 1 }, 'option tags:')).to.throw(TypeError, /^option tags: tag "k" must have a string value/)
    expect(() => checkTags({ '': 'v' }, 'option tags:')).to.throw(TypeError, /non-empty/)
    expect(() => checkTags(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, ''])), 'option tags:')).to.throw(RangeError, /at most 16 tags/)
    expect(() => checkTags({ k: 'é'.repeat(256) }, 'option tags:')).to.throw(RangeError, /at most 512 UTF-8 bytes/)
    expect(sameTags({ a: '1', b: '2' }, { b: '2', a: '1' })).to.equal(true)
    expect(sameTags({ a: '1' }, { a: '2' })).to.equal(false)
    expect(sameTags({ a: '1' }, {})).to.equal(false)
  })
})
