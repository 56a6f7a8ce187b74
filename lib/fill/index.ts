/**
 * The fill layer: single-flight, lease-coordinated `getWithFiller`. It talks
 * to peers and to the store only through the seams in `fill-peers.ts`.
 */
export { Filler, type FillContext, type FillFn, type FillOptions, type FillerComponents, type FillerStats } from './filler.js'
export { fillerDefaults, resolveFillerInit, type FillerInit, type FillerConfig } from './filler-options.js'
export { cutFailureMessage, failureMessage, MAX_FAILURE_MESSAGE_CHARS, type FillPeers, type FillLocal, type LeaseReply } from './fill-peers.js'
export { LeaseTable, type LeaseTableInit } from './lease-table.js'
export { OwnerLeases, type OwnerLeasesComponents, type OwnerLeasesInit, type OwnerLeaseCounters } from './owner-leases.js'
export { rendezvousOwner, rendezvousScore } from './rendezvous.js'
