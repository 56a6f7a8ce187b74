/**
 * Tags of the application streams that ride on membership (the first frame
 * of a `UserStream` names one). Each layer registers a handler for its own
 * tags through `Cluster.handleStreams`.
 *
 * Only append: the numbers are part of the protocol.
 */
export const enum StreamTag {
  /** Anti-entropy rounds (replication/anti-entropy.ts). */
  AntiEntropy = 1,
  /** Persistent push streams of bursts and large values (replication/push-channels.ts). */
  Push = 2,
  /** Fill lease requests, releases and failure notices (fill/lease-client.ts). */
  Lease = 3,
  /** Acknowledged writes: one delta in, one "held" reply out (replication/acked-writes.ts). */
  Ack = 4,
  /** The first step of a periodic anti-entropy round: same coverage or not (replication/coverage-check.ts). */
  CoverageCheck = 5,
  /** Partition mode: anti-entropy restricted to the segments the receiver owns (replication/segment-sync.ts). */
  SegmentSync = 6,
  /** Partition mode: a read of one key from its owner (replication/remote-read.ts). */
  Fetch = 7
}
