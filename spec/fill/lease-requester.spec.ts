import { expect } from 'chai'
import { refusedWaitMs, type LeaseRequesterInit } from '../../lib/fill/lease-requester.js'

describe('fill/lease-requester refusedWaitMs', () => {
  const cfg: LeaseRequesterInit = { leaseMs: 10_000, leaseGraceMs: 500, leaseRequestTimeoutMs: 1_000, maxWaitMs: 15_000, maxLeaseMs: 60_000 }
  const rows: Array<[string, number, number, Partial<LeaseRequesterInit>, number]> = [
    ['until expiry plus grace', 10_000, 0, {}, 10_500],
    ['bounded by what is left of maxWaitMs', 10_000, 12_000, {}, 3_000],
    ['an expiry in the past waits the grace only', -5_000, 0, {}, 500],
    ['an expiry beyond maxLeaseMs is clamped to it', 1e9, 0, { maxWaitMs: 1e9 }, 60_500],
    ['at least 1 ms', -5_000, 0, { leaseGraceMs: 0 }, 1],
    ['at least 1 ms when maxWaitMs is used up', 10_000, 15_000, {}, 1]
  ]
  for (const [name, expiresInMs, waitedMs, over, want] of rows) {
    it(name, () => {
      expect(refusedWaitMs(expiresInMs, waitedMs, { ...cfg, ...over })).to.equal(want)
    })
  }
})
