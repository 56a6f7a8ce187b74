import { expect } from 'chai'
import { inspect } from 'node:util'
import { ClosedError, FillAbortedError, FillError, FillTimeoutError } from '../../lib/errors.js'
import type { FillFn } from '../../lib/fill/filler.js'
import { fillerDefaults, resolveFillerInit, type FillerInit } from '../../lib/fill/filler-options.js'
import { FakeFillCluster, TestFiller, drive, flush, track } from './fake-fill-cluster.js'

// One node: it owns every key, so lease decisions are local.
function single(init: FillerInit = {}): { c: FakeFillCluster; n: ReturnType<FakeFillCluster['node']> } {
  const c = new FakeFillCluster(['solo'], init)
  return { c, n: c.node('solo') }
}

describe('Filler (one node)', () => {
  it('runs the filler once for 1,000 concurrent calls; all get the value', async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 50)
    const calls = Array.from({ length: 1000 }, () => track(n.filler.fill('k', f.fn, { ttl: 60 })))
    expect(n.filler.inFlight).to.equal(1)
    await drive(c.clock, 60, 10)
    expect(f.calls).to.equal(1)
    for (const t of calls) expect(t).to.deep.equal({ status: 'fulfilled', value: 'value:k' })
    expect(n.sets).to.deep.equal([{ key: 'k', value: 'value:k', ttl: 60 }])
    expect(n.filler.stats).to.include({ fillsStarted: 1, fillsShared: 999, leasesGranted: 1, fallbacks: 0 })
    expect(n.filler.inFlight).to.equal(0)
    expect(c.clock.pending()).to.equal(0)
    // a hit now: no filler
    expect(await n.filler.fill('k', f.fn)).to.equal('value:k')
    expect(f.calls).to.equal(1)
  })

  it('sends the error to every waiter and does not cache it', async () => {
    const { c, n } = single()
    const boom = new Error('backend down')
    let calls = 0
    const failing: FillFn<string> = async () => {
      calls++
      await flush()
      throw boom
    }
    const calls1 = Array.from({ length: 1000 }, () => track(n.filler.fill('k', failing)))
    await drive(c.clock, 1)
    expect(calls).to.equal(1)
    for (const t of calls1) expect(t.error).to.equal(boom) // the same object
    expect(n.filler.stats.fillErrors).to.equal(1)
    expect(n.map.has('k')).to.equal(false)
    // not cached: the next call runs the filler again
    const f = new TestFiller(c.clock, 5)
    const next = track(n.filler.fill('k', f.fn))
    await drive(c.clock, 10)
    expect(f.calls).to.equal(1)
    expect(next.value).to.equal('value:k')
  })

  it('wraps a non-Error throw and an undefined result in FillError', async () => {
    const { c, n } = single()
    const t1 = track(n.filler.fill('a', () => { throw 'oops' })) // eslint-disable-line no-throw-literal
    const t2 = track(n.filler.fill('b', () => undefined as unknown as string))
    await drive(c.clock, 1)
    expect(t1.error).to.be.instanceOf(FillError).with.property('cause', 'oops')
    expect((t1.error as FillError).code).to.equal('BCACHE_ERR_FILL')
    expect(t2.error).to.be.instanceOf(FillError).with.property('message').that.matches(/undefined/)
    expect(n.filler.stats.fillErrors).to.equal(2)
  })

  it('times out: FillTimeoutError to every waiter, the filler signal aborts, the late value is dropped', async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 500)
    const calls = Array.from({ length: 10 }, () => track(n.filler.fill('k', f.fn, { timeoutMs: 100 })))
    await drive(c.clock, 99, 33)
    expect(calls[0]!.status).to.equal('pending')
    await drive(c.clock, 1)
    for (const t of calls) expect(t.error).to.be.instanceOf(FillTimeoutError)
    expect((calls[0]!.error as FillTimeoutError).code).to.equal('BCACHE_ERR_FILL_TIMEOUT')
    expect(new Set(calls.map((t) => t.error)).size).to.equal(1)
    expect(f.signals[0]!.aborted).to.equal(true)
    expect(f.signals[0]!.reason).to.equal(calls[0]!.error)
    expect(n.filler.stats.fillTimeouts).to.equal(1)
    await drive(c.clock, 500, 100) // the filler finishes late: not stored
    expect(n.map.has('k')).to.equal(false)
    expect(n.sets).to.have.length(0)
    // the next call fills again
    const again = track(n.filler.fill('k', f.fn))
    await drive(c.clock, 500, 100)
    expect(f.calls).to.equal(2)
    expect(again.value).to.equal('value:k')
  })

  it('applies defaultTimeoutMs; 0 disables it', async () => {
    const { c, n } = single({ defaultTimeoutMs: 200 })
    const hang = new TestFiller(c.clock, Infinity)
    const t = track(n.filler.fill('k', hang.fn))
    await drive(c.clock, 200, 50)
    expect(t.error).to.be.instanceOf(FillTimeoutError)
    const u = track(n.filler.fill('k2', hang.fn, { timeoutMs: 0 }))
    await drive(c.clock, 10_000, 1000)
    expect(u.status).to.equal('pending')
    n.filler.close()
  })

  it("lets a joiner's shorter timeout end only its own wait", async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 300)
    const first = track(n.filler.fill('k', f.fn, { timeoutMs: 1000 }))
    const impatient = track(n.filler.fill('k', f.fn, { timeoutMs: 100 }))
    const longer = track(n.filler.fill('k', f.fn, { timeoutMs: 5000 }))
    await drive(c.clock, 100, 50)
    expect(impatient.error).to.be.instanceOf(FillTimeoutError)
    expect(first.status).to.equal('pending')
    await drive(c.clock, 200, 50)
    expect(first.value).to.equal('value:k')
    expect(longer.value).to.equal('value:k')
    expect(f.signals[0]!.aborted).to.equal(false)
  })

  it("rejects an aborting caller at once; the others still get the value", async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 100)
    const ac = new AbortController()
    const others = [track(n.filler.fill('k', f.fn)), track(n.filler.fill('k', f.fn))]
    const quitter = track(n.filler.fill('k', f.fn, { signal: ac.signal }))
    await drive(c.clock, 10)
    const reason = new Error('user went away')
    ac.abort(reason)
    await flush()
    expect(quitter.error).to.be.instanceOf(FillAbortedError).with.property('cause', reason)
    expect((quitter.error as FillAbortedError).code).to.equal('BCACHE_ERR_FILL_ABORTED')
    expect(others[0]!.status).to.equal('pending')
    await drive(c.clock, 100, 10)
    for (const t of others) expect(t.value).to.equal('value:k')
    expect(f.calls).to.equal(1)
    expect(f.signals[0]!.aborted).to.equal(false)
  })

  it('rejects an already aborted signal without starting a fill', async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 10)
    const t = track(n.filler.fill('k', f.fn, { signal: AbortSignal.abort('nope') }))
    await flush()
    expect(t.error).to.be.instanceOf(FillAbortedError).with.property('cause', 'nope')
    expect(f.calls).to.equal(0)
    expect(n.filler.inFlight).to.equal(0)
  })

  it('aborts the filler signal when every caller aborts; the next call starts afresh', async () => {
    const { c, n } = single()
    const f = new TestFiller(c.clock, 1000)
    const acs = [new AbortController(), new AbortController(), new AbortController()]
    const ts = acs.map((ac) => track(n.filler.fill('k', f.fn, { signal: ac.signal })))
    await drive(c.clock, 10)
    acs[0]!.abort()
    acs[1]!.abort()
    await flush()
    expect(f.signals[0]!.aborted).to.equal(false)
    acs[2]!.abort()
    await flush()
    for (const t of ts) expect(t.error).to.be.instanceOf(FillAbortedError)
    expect(f.signals[0]!.aborted).to.equal(true)
    expect(f.signals[0]!.reason).to.be.instanceOf(FillAbortedError)
    expect(n.filler.inFlight).to.equal(0)
    // the lease was released: a new fill is granted at once and runs
    const again = track(n.filler.fill('k', f.fn))
    await drive(c.clock, 1000, 100)
    expect(again.value).to.equal('value:k')
    expect(f.calls).to.equal(2)
    expect(n.filler.stats.leasesRefused).to.equal(0)
  })

  it('bounds concurrent fillers with p-limit; queued keys still share one flight', async () => {
    const { c, n } = single({ concurrency: 3 })
    const f = new TestFiller(c.clock, 10)
    const ts: Array<ReturnType<typeof track<string>>> = []
    for (let i = 0; i < 10; i++) {
      for (let j = 0; j < 5; j++) ts.push(track(n.filler.fill(`k${i}`, f.fn)))
    }
    await drive(c.clock, 1)
    expect(f.active).to.equal(3)
    await drive(c.clock, 50, 1)
    expect(f.maxActive).to.equal(3)
    expect(f.calls).to.equal(10)
    expect(new Set(f.keys).size).to.equal(10)
    for (const t of ts) expect(t.status).to.equal('fulfilled')
    expect(n.filler.stats.fillsShared).to.equal(40)
  })

  it('skips the filler when the value arrives while the fill is queued', async () => {
    const { c, n } = single({ concurrency: 1 })
    const f = new TestFiller(c.clock, 100)
    const first = track(n.filler.fill('busy', f.fn))
    const queued = [track(n.filler.fill('k', f.fn)), track(n.filler.fill('k', f.fn))]
    await drive(c.clock, 10)
    n.store('k', 'replicated') // arrives from another node
    await drive(c.clock, 100, 10)
    expect(first.value).to.equal('value:busy')
    for (const t of queued) expect(t.value).to.equal('replicated')
    expect(f.keys).to.deep.equal(['busy'])
    expect(n.filler.stats.valuesArrived).to.equal(1)
  })

  it('close() rejects pending fills with ClosedError, aborts fillers and clears timers', async () => {
    const { c, n } = single({ concurrency: 1 })
    const hang = new TestFiller(c.clock, Infinity)
    const running = Array.from({ length: 3 }, () => track(n.filler.fill('a', hang.fn, { timeoutMs: 5000 })))
    const queued = track(n.filler.fill('b', hang.fn, { timeoutMs: 100 }))
    await drive(c.clock, 1)
    expect(c.clock.pending()).to.be.greaterThan(0)
    n.filler.close()
    await flush()
    for (const t of [...running, queued]) expect(t.error).to.be.instanceOf(ClosedError)
    expect(hang.signals[0]!.aborted).to.equal(true)
    expect(c.clock.pending()).to.equal(0)
    expect(n.filler.inFlight).to.equal(0)
    const after = track(n.filler.fill('c', hang.fn))
    await flush()
    expect(after.error).to.be.instanceOf(ClosedError)
    await drive(c.clock, 10)
    expect(hang.calls).to.equal(1) // the queued fill never ran
  })

  describe('argument validation', () => {
    const fn: FillFn<string> = () => 'v'
    const cases: Array<[name: string, call: (fill: (...a: unknown[]) => Promise<string>) => Promise<string>, type: typeof Error, re: RegExp]> = [
      ['non-string key', (fill) => fill(42, fn), TypeError, /key/],
      ['empty key', (fill) => fill('', fn), RangeError, /key/],
      ['missing fn', (fill) => fill('k', undefined), TypeError, /fn/],
      ['negative ttl', (fill) => fill('k', fn, { ttl: -1 }), RangeError, /ttl/],
      ['NaN ttl', (fill) => fill('k', fn, { ttl: NaN }), RangeError, /ttl/],
      ['string ttl', (fill) => fill('k', fn, { ttl: '5' }), TypeError, /ttl/],
      ['infinite timeoutMs', (fill) => fill('k', fn, { timeoutMs: Infinity }), RangeError, /timeoutMs/],
      ['negative timeoutMs', (fill) => fill('k', fn, { timeoutMs: -5 }), RangeError, /timeoutMs/],
      ['bad signal', (fill) => fill('k', fn, { signal: {} }), TypeError, /signal/],
      ['null opts', (fill) => fill('k', fn, null), TypeError, /opts/]
    ]
    for (const [name, call, type, re] of cases) {
      it(`rejects ${name}`, async () => {
        const { n } = single()
        const fill = n.filler.fill.bind(n.filler) as unknown as (...a: unknown[]) => Promise<string>
        const t = track(call(fill))
        await flush()
        expect(t.error).to.be.instanceOf(type)
        expect((t.error as Error).message).to.match(re)
      })
    }
  })

  describe('settings', () => {
    it('fills defaults', () => {
      expect(resolveFillerInit()).to.deep.equal(fillerDefaults)
      expect(resolveFillerInit({ concurrency: 2 }).concurrency).to.equal(2)
    })
    const bad: Array<[FillerInit, typeof Error, RegExp]> = [
      [{ concurrency: 0 }, RangeError, /concurrency/],
      [{ concurrency: 1.5 }, RangeError, /concurrency/],
      [{ leaseMs: 0 }, RangeError, /leaseMs/],
      [{ leaseMs: '10' as unknown as number }, TypeError, /leaseMs/],
      [{ maxWaitMs: -1 }, RangeError, /maxWaitMs/],
      [{ defaultTimeoutMs: Infinity }, RangeError, /defaultTimeoutMs/],
      [{ leaseRequestTimeoutMs: 0 }, RangeError, /leaseRequestTimeoutMs/],
      [{ leaseMs: 70_000 }, RangeError, /maxLeaseMs/],
      [{ maxLeases: 0 }, RangeError, /maxLeases/]
    ]
    for (const [init, type, re] of bad) {
      it(`rejects ${inspect(init)}`, () => {
        expect(() => single(init)).to.throw(type, re)
      })
    }
  })

  describe('as a lease owner', () => {
    it('grants, refuses, clamps and releases', () => {
      const { c, n } = single({ leaseMs: 1000, maxLeaseMs: 5000 })
      const now = c.clock.now()
      expect(n.filler.handleLeaseRequest('peer-1', 'k', 99_999)).to.deep.equal({ granted: true, expiresAt: now + 5000 })
      expect(n.filler.handleLeaseRequest('peer-2', 'k', 1000)).to.deep.equal({ granted: false, holder: 'peer-1', expiresAt: now + 5000 })
      n.filler.handleLeaseRelease('peer-2', 'k') // not the holder: ignored
      expect(n.filler.handleLeaseRequest('peer-2', 'k', 1000).granted).to.equal(false)
      n.filler.handleLeaseRelease('peer-1', 'k')
      expect(n.filler.handleLeaseRequest('peer-2', 'k', NaN)).to.deep.equal({ granted: true, expiresAt: now + 1000 })
      expect(n.filler.stats).to.include({ leasesGranted: 2, leasesRefused: 2 })
      expect(() => n.filler.handleLeaseRequest('', 'k', 1)).to.throw(TypeError, /fromId/)
    })
  })
})
