import { expect } from 'chai'
import { FRAME_MARGIN_BYTES, resolveOptions, type BcacheOptions } from '../lib/bcache-options.js'
import { MAX_KEY_BYTES } from '../lib/replication/delta.js'

// resolveOptions directly: no socket is bound by any of these.
const base: BcacheOptions = { maxKeys: 10, listenAddr: '127.0.0.1:0' }
const resolve = (extra: object, listenRequired = true): unknown => resolveOptions({ ...base, ...extra } as BcacheOptions, listenRequired)
const MiB = 1024 * 1024

describe('resolveOptions', () => {
  describe('unknown option names', () => {
    it('refuses a misspelt top-level option, suggesting the known one', () => {
      // Before: ignored, and the node ran unencrypted.
      expect(() => resolve({ secretkeys: [Buffer.alloc(32)] })).to.throw(TypeError, /^option secretkeys: unknown option \(did you mean secretKeys\?\)$/)
      expect(() => resolve({ maxkeys: 5 })).to.throw(TypeError, /did you mean maxKeys\?/)
      expect(() => resolve({ peer: [] })).to.throw(TypeError, /did you mean peers\?/)
    })

    it('refuses an unknown option that resembles nothing, without a suggestion', () => {
      expect(() => resolve({ colour: 'blue' })).to.throw(TypeError, /^option colour: unknown option$/)
    })

    it('refuses an unknown fill option, suggesting the known one', () => {
      expect(() => resolve({ fill: { concurency: 4 } })).to.throw(TypeError, /^option fill\.concurency: unknown option \(did you mean fill\.concurrency\?\)$/)
    })

    it('refuses an unknown tuning option, suggesting the known one', () => {
      expect(() => resolve({ tuning: { gossipNode: 4 } })).to.throw(TypeError, /^option tuning\.gossipNode: unknown option \(did you mean tuning\.gossipNodes\?\)$/)
    })
  })

  describe('logger', () => {
    it('refuses the string "console", suggesting the object', () => {
      // Before: accepted, then an uncaught TypeError on the first log line.
      expect(() => resolve({ logger: 'console' })).to.throw(TypeError, /^option logger: must be an object with debug, info, warn, error functions \(pass console.*got "console"$/)
    })

    it('refuses an object that lacks a method, naming it', () => {
      expect(() => resolve({ logger: { debug() {}, info() {}, warn() {} } })).to.throw(TypeError, /^option logger: .*without error$/)
      expect(() => resolve({ logger: null })).to.throw(TypeError, /^option logger: /)
    })

    it('accepts console and fills the silent logger when absent', () => {
      expect((resolve({ logger: console }) as { logger: unknown }).logger).to.equal(console)
      expect((resolve({}) as { logger: { warn: unknown } }).logger.warn).to.be.a('function')
    })
  })

  describe('addresses', () => {
    it('refuses an advertiseAddr with port 0', () => {
      expect(() => resolve({ advertiseAddr: '10.0.0.1:0' })).to.throw(RangeError, /^option advertiseAddr: port 0/)
      expect((resolve({ advertiseAddr: '10.0.0.1:7946' }) as { advertiseAddr: string }).advertiseAddr).to.equal('10.0.0.1:7946')
    })

    it('names the peer at fault by its index', () => {
      expect(() => resolve({ peers: ['127.0.0.1:1', 'nope'] })).to.throw(TypeError, /^option peers\[1\]: address "nope" is not "host:port"$/)
      expect(() => resolve({ peers: ['127.0.0.1:99999'] })).to.throw(RangeError, /^option peers\[0\]: /)
      expect(() => resolve({ peers: '127.0.0.1:1' })).to.throw(TypeError, /^option peers: must be an array/)
    })

    it('names a missing listenAddr and a missing maxKeys', () => {
      expect(() => resolveOptions({} as BcacheOptions, true)).to.throw(TypeError, /^option listenAddr: is required/)
      expect(() => resolveOptions({} as BcacheOptions, false)).to.throw(TypeError, /^option maxKeys: is required/)
      expect(() => resolve({ listenAddr: 'x' })).to.throw(TypeError, /^option listenAddr: /)
      expect(() => resolveOptions(null as unknown as BcacheOptions, true)).to.throw(TypeError, /^option options: must be an object/)
    })
  })

  describe('messages start with the option path', () => {
    const cases: Array<[object, typeof Error, RegExp]> = [
      [{ fill: { concurrency: 0 } }, RangeError, /^option fill\.concurrency: must be a positive integer, got 0$/],
      [{ fill: { leaseMs: '10' } }, TypeError, /^option fill\.leaseMs: must be a number/],
      [{ fill: { leaseMs: 70_000 } }, RangeError, /^option fill\.leaseMs: .*fill\.maxLeaseMs/],
      [{ fill: 5 }, TypeError, /^option fill: must be an object/],
      [{ tuning: { probeIntervalMs: 0 } }, RangeError, /^option tuning\.probeIntervalMs: /],
      [{ maxKeys: 0 }, RangeError, /^option maxKeys: must be a positive integer/],
      [{ maxBytes: -1 }, RangeError, /^option maxBytes: /],
      [{ statsInterval: 'often' }, TypeError, /^option statsInterval: must be a number, got "often"$/],
      [{ nodeId: '' }, TypeError, /^option nodeId: /],
      [{ label: 5 }, TypeError, /^option label: must be a string/],
      [{ allowPlaintext: 1 }, TypeError, /^option allowPlaintext: must be a boolean/],
      [{ secretKeys: [Buffer.alloc(8)] }, RangeError, /^option secretKeys\[0\]/],
      [{ maxStreamQueueBytes: 10 }, RangeError, /^option maxStreamQueueBytes: /],
      [{ maxMembers: 1 }, RangeError, /^option maxMembers: /]
    ]
    for (const [extra, type, re] of cases) {
      it(`${JSON.stringify(extra)} → ${type.name} ${String(re)}`, () => {
        expect(() => resolve(extra)).to.throw(type, re)
      })
    }
  })

  it('validates fill settings at create, before anything is bound, and returns them complete', () => {
    // Before: fill was passed through unchecked and refused only by the Filler, after binding.
    expect(() => resolve({ fill: { maxWaitMs: -1 } })).to.throw(RangeError, /^option fill\.maxWaitMs: /)
    expect((resolve({ fill: { concurrency: 3 } }) as { fill: { concurrency: number; leaseMs: number } }).fill).to.include({ concurrency: 3, leaseMs: 10_000 })
  })

  describe('maxValueBytes against maxFrameBytes', () => {
    it(`refuses maxValueBytes above maxFrameBytes - ${FRAME_MARGIN_BYTES}, naming both`, () => {
      // Before: accepted; the first such value then stopped every state transfer.
      const msg = /^option maxValueBytes: \(16777216\) must be at most maxFrameBytes \(16777216\) minus 65536/
      expect(() => resolve({ maxValueBytes: 16 * MiB })).to.throw(RangeError, msg)
      expect(() => resolve({ maxFrameBytes: 2 * MiB, maxValueBytes: 2 * MiB - FRAME_MARGIN_BYTES + 1 })).to.throw(RangeError, /maxFrameBytes/)
      // The default maxValueBytes (1 MiB) does not fit a 1 MiB frame either.
      expect(() => resolve({ maxFrameBytes: MiB })).to.throw(RangeError, /^option maxValueBytes: .*maxFrameBytes \(1048576\)/)
    })

    it('accepts maxValueBytes exactly at the bound', () => {
      const r = resolve({ maxFrameBytes: 2 * MiB, maxValueBytes: 2 * MiB - FRAME_MARGIN_BYTES }) as { maxValueBytes: number }
      expect(r.maxValueBytes).to.equal(2 * MiB - FRAME_MARGIN_BYTES)
      expect(() => resolve({ maxValueBytes: 16 * MiB - FRAME_MARGIN_BYTES })).not.to.throw()
    })

    it('refuses a maxFrameBytes that leaves no room for any value', () => {
      expect(() => resolve({ maxFrameBytes: FRAME_MARGIN_BYTES, maxValueBytes: 1 })).to.throw(RangeError, /^option maxFrameBytes: /)
      expect(() => resolve({ maxFrameBytes: 2 ** 32 })).to.throw(RangeError, /^option maxFrameBytes: /)
    })
  })

  it(`refuses maxKeyBytes above the wire limit (${MAX_KEY_BYTES})`, () => {
    expect(() => resolve({ maxKeyBytes: MAX_KEY_BYTES + 1 })).to.throw(RangeError, /^option maxKeyBytes: must be an integer from 1 to 1024, got 1025$/)
    expect(() => resolve({ maxKeyBytes: 0 })).to.throw(RangeError, /^option maxKeyBytes: /)
    expect((resolve({ maxKeyBytes: MAX_KEY_BYTES }) as { maxKeyBytes: number }).maxKeyBytes).to.equal(MAX_KEY_BYTES)
  })

  describe('maxKeys', () => {
    for (const n of [1, 1e8, 1e9, Number.MAX_SAFE_INTEGER]) {
      it(`accepts ${n} (not capped: the store reserves nothing up front)`, () => {
        expect((resolve({ maxKeys: n }) as { maxKeys: number }).maxKeys).to.equal(n)
      })
    }
    const bad: Array<[unknown, typeof Error]> = [[0, RangeError], [-1, RangeError], [1.5, RangeError], [2 ** 53, RangeError], [Infinity, RangeError], [NaN, RangeError], ['10', TypeError]]
    for (const [v, type] of bad) {
      it(`refuses ${String(v)} with ${type.name}`, () => {
        expect(() => resolve({ maxKeys: v })).to.throw(type, /^option maxKeys: /)
      })
    }
  })
})
