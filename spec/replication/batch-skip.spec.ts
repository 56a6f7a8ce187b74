import { expect } from 'chai'
import { ManualClock } from '../../lib/clock.js'
import { DropCounts } from '../../lib/drop-counts.js'
import { decodeBatch, encodeBatch, encodeDelta } from '../../lib/replication/delta.js'
import { RemoteMerge } from '../../lib/replication/remote-merge.js'
import { newCounters } from '../../lib/replication/replication-stats.js'
import { ValueWaiters } from '../../lib/replication/waiters.js'
import { HybridClock } from '../../lib/store/version.js'
import { encodeValue, VersionedStore } from '../../lib/store/versioned-store.js'
import { DecodeError } from '../../lib/wire/decode-error.js'

const v = (wall: number) => ({ wall, counter: 0, origin: 'o1' })
const good = (key: string, seq: number): Buffer => encodeDelta(key, encodeValue(key), v(1000 + seq), seq, 0)
// seq 0 breaks the delta's rules (seqs start at 1): it decodes but does not validate
const bad = (key: string): Buffer => encodeDelta(key, encodeValue(key), v(1000), 0, 0)

describe('A delta that fails validation inside a batch', () => {
  it('decodeBatch skips it and reports the reason, returning the others', () => {
    const batch = encodeBatch([good('a', 1), bad('b'), good('c', 2)])
    const reasons: string[] = []
    const deltas = decodeBatch(batch, 0, (r) => reasons.push(r))
    expect(deltas.map((d) => d.key)).to.deep.equal(['a', 'c'])
    expect(reasons).to.have.length(1)
    expect(() => decodeBatch(batch, 0), 'without onReject the batch throws').to.throw(DecodeError)
  })

  it('RemoteMerge.acceptBatch applies the rest of the batch and counts the skipped delta', () => {
    const clock = new ManualClock()
    const store = new VersionedStore({ maxKeys: 100, deletionDelayMs: 1000 })
    const drops = new DropCounts()
    const merge = new RemoteMerge({ store, clock, hlc: new HybridClock(() => clock.now()), waiters: new ValueWaiters(), stats: newCounters(), drops }, undefined)
    const n = merge.acceptBatch(encodeBatch([good('a', 1), bad('b'), good('c', 2)]))
    expect(n).to.equal(2)
    expect(store.get('a', () => clock.now())).to.equal('a')
    expect(store.get('b', () => clock.now())).to.equal(undefined)
    expect(store.get('c', () => clock.now())).to.equal('c')
    const counted = Object.entries(drops.snapshot()).filter(([k]) => k.startsWith('push-delta-'))
    expect(counted.reduce((s, [, c]) => s + c, 0), JSON.stringify(drops.snapshot())).to.equal(1)
  })
})
