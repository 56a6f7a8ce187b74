import { expect } from 'chai'
import { VersionedStore } from '../../lib/store/versioned-store.js'
import { decodeRequest, encodeRequest, scanSegments, segmentEntries } from '../../lib/replication/segment-sync.js'
import { segmentOf } from '../../lib/replication/ownership.js'
import { DecodeError } from '../../lib/wire/decode-error.js'
import { Packr } from 'msgpackr'

const DELAY = 10_000
const entry = (key: string, wall: number, tombstone = false, expiresAt = 0) => ({
  key, bytes: tombstone ? Buffer.alloc(0) : Buffer.from([0xa1, 0x78]), value: tombstone ? undefined : 'x',
  version: { wall, counter: 0, origin: 'o1' }, seq: wall, expiresAt, tombstone
})
const store = (): VersionedStore => new VersionedStore({ maxKeys: 1000, deletionDelayMs: DELAY, highestSeqOnly: true })

describe('segment sync (partition mode)', () => {
  it('fingerprints agree for the same entries in any order, and differ for another version', () => {
    const a = store(), b = store()
    for (let i = 1; i <= 50; i++) a.apply(entry(`k${i}`, 1000 + i), 2000)
    for (let i = 50; i >= 1; i--) b.apply(entry(`k${i}`, 1000 + i), 2000)
    expect(Buffer.from(scanSegments(a, 2000, DELAY).fingerprints.buffer)).to.deep.equal(Buffer.from(scanSegments(b, 2000, DELAY).fingerprints.buffer))
    b.apply(entry('k7', 1500), 2000)
    const s = segmentOf('k7')
    expect(scanSegments(a, 2000, DELAY).fingerprints[s]).to.not.equal(scanSegments(b, 2000, DELAY).fingerprints[s])
  })

  it('an expired write hashes like its expiry marker and still travels, until half the delay after it expired', () => {
    const a = store(), b = store()
    a.apply(entry('ttl', 1000, false, 3000), 1000) // a holds it live, past its TTL, not purged
    b.apply(entry('ttl', 1000, false, 3000), 3500) // b got it late: only the expiry marker
    const s = segmentOf('ttl')
    expect(scanSegments(a, 4000, DELAY).fingerprints[s]).to.equal(scanSegments(b, 4000, DELAY).fingerprints[s])
    expect(segmentEntries(a, new Set([s]), 4000, DELAY).map((e) => e.key)).to.deep.equal(['ttl'])
    expect(segmentEntries(b, new Set([s]), 4000, DELAY).map((e) => e.key)).to.deep.equal(['ttl'])
    expect(segmentEntries(b, new Set([s]), 3000 + DELAY / 2 + 1, DELAY)).to.deep.equal([])
    // an owner that missed the expired write drops the older value it supersedes
    const c = store()
    c.apply(entry('ttl', 900), 1000)
    for (const e of segmentEntries(b, new Set([s]), 4000, DELAY)) c.apply(e, 4000)
    expect(c.peekValue('ttl', () => 4000)).to.equal(undefined)
  })

  it('leaves out tombstones older than half the delay, in fingerprints and in what it sends', () => {
    const a = store()
    a.apply(entry('live', 1000), 1000)
    a.apply(entry('gone', 1000, true), 1000)
    const segs = new Set([segmentOf('live'), segmentOf('gone')])
    expect(segmentEntries(a, segs, 2000, DELAY).map((e) => e.key).sort()).to.deep.equal(['gone', 'live'])
    const later = 1000 + DELAY / 2 + 1
    expect(segmentEntries(a, segs, later, DELAY).map((e) => e.key)).to.deep.equal(['live'])
    expect(scanSegments(a, later, DELAY).counts[segmentOf('gone')]).to.equal(segmentOf('gone') === segmentOf('live') ? 1 : 0)
  })

  it('scans only the segments asked (a hand-off of pending writes alone asks none)', () => {
    const a = store()
    for (let i = 1; i <= 50; i++) a.apply(entry(`k${i}`, 1000 + i), 2000)
    const all = scanSegments(a, 2000, DELAY)
    const s = segmentOf('k7')
    const some = scanSegments(a, 2000, DELAY, new Set([s]))
    expect(some.fingerprints[s]).to.equal(all.fingerprints[s])
    expect(some.counts.reduce((x, y) => x + y, 0)).to.equal(all.counts[s])
    expect(scanSegments(a, 2000, DELAY, new Set()).counts.every((c) => c === 0)).to.equal(true)
  })

  it('refuses a malformed request with a DecodeError', () => {
    const packr = new Packr({ useRecords: false })
    const good = { segments: [1, 2], fingerprints: [3, 4], wants: [0, 1] }
    expect(decodeRequest(encodeRequest(good))).to.deep.equal(good)
    for (const bad of [[[1], [2]], [[4096], [0], [0]], [[1], [1, 2], [0]], [[1], [-1], [0]], [[1], [1], [2]], 'x']) {
      expect(() => decodeRequest(packr.pack(bad)), JSON.stringify(bad)).to.throw(DecodeError)
    }
  })
})
