/**
 * Membership tuning: the three profiles and the validation of every option.
 * Only the facade (and tests) fill defaults; the engine receives a complete,
 * validated {@link MembershipConfig}.
 */
import { DEFAULT_DECODE_LIMITS } from './wire/validate.js'
import { bool, finiteIn, intIn, knownKeys, object, oneOf, optionMessage, str } from './option-checks.js'

/** The tuning knobs of the SWIM engine. Every field is documented with its effect and default (lan profile). */
export interface MembershipTuning {
  /**
   * Time between failure-detection probes. Each round probes one member
   * (randomized round robin), so a dead member is found within about
   * `probeIntervalMs × members` worst case, usually much sooner since every
   * node probes. Scaled up by local health (Lifeguard) when this node is slow.
   * @default 1000 (lan), 200 (local), 5000 (wan)
   */
  probeIntervalMs: number
  /**
   * How long to wait for a direct ack before asking others to probe
   * (ping-req). Should exceed the network's 99th percentile RTT; scaled up by
   * local health.
   * @default 500 (lan), 100 (local), 3000 (wan)
   */
  probeTimeoutMs: number
  /**
   * Members asked to probe an unresponsive target indirectly (SWIM's k).
   * More tolerates more loss on the path, at the cost of packets.
   * @default 3 (lan), 2 (local), 3 (wan)
   */
  indirectChecks: number
  /**
   * Suspicion timeout multiplier: a suspect is declared dead after at least
   * `suspicionMult × max(1, log10(N)) × probeIntervalMs` (with enough
   * independent confirmations; up to `suspicionMaxTimeoutMult` times that
   * without). `suspicionMult − 2` confirmations shrink it to the minimum.
   * Higher means fewer false deaths and slower detection.
   * @default 4 (lan), 3 (local), 6 (wan)
   */
  suspicionMult: number
  /**
   * Upper bound of the dynamic suspicion timeout, as a multiple of the minimum.
   * @default 6
   */
  suspicionMaxTimeoutMult: number
  /**
   * Each broadcast is sent `retransmitMult × ceil(log10(N + 1))` times.
   * Higher converges faster under loss, at the cost of bandwidth.
   * @default 4 (lan), 3 (local), 4 (wan)
   */
  retransmitMult: number
  /**
   * Interval of the gossip tick that sends queued broadcasts to
   * `gossipNodes` random members, besides piggybacking on probes.
   * @default 200 (lan), 50 (local), 500 (wan)
   */
  gossipIntervalMs: number
  /**
   * Fan-out of each gossip tick. More spreads faster, costs more packets.
   * @default 3 (lan), 3 (local), 4 (wan)
   */
  gossipNodes: number
  /**
   * Keep gossiping to a member for this long after it was declared dead, so
   * a wrongly declared member learns of it and refutes.
   * @default 30000 (lan), 5000 (local), 60000 (wan)
   */
  gossipToTheDeadMs: number
  /**
   * Dead and left members are removed from the member table this long after
   * their state changed. Must be ≥ `gossipToTheDeadMs`.
   * @default 60000 (lan), 10000 (local), 120000 (wan)
   */
  reapDeadAfterMs: number
  /**
   * Interval of the full member-table exchange over TCP with one random
   * member (0 disables). Repairs whatever gossip lost; scaled up by
   * `ceil(log2(N / 32))` beyond 32 members.
   * @default 30000 (lan), 5000 (local), 60000 (wan)
   */
  pushPullIntervalMs: number
  /**
   * Timeout of TCP operations: dial, push-pull exchange, fallback ping.
   * @default 10000 (lan), 1000 (local), 30000 (wan)
   */
  tcpTimeoutMs: number
  /**
   * When a direct probe fails, also try a ping over TCP, so a node whose UDP
   * is blocked or lossy is not declared dead.
   * @default true
   */
  tcpFallbackPing: boolean
  /**
   * Lifeguard: the most that local health may multiply probe interval and
   * timeout by (score ranges 0..max−1).
   * @default 8
   */
  awarenessMaxMultiplier: number
  /**
   * Largest datagram this node sends, in bytes (header included). Keep it
   * under the path MTU (1500 on Ethernet, minus IP/UDP headers).
   * @default 1400
   */
  packetBudgetBytes: number
  /**
   * Share (0..1) of each datagram's piggyback space reserved for application
   * (cache) payloads when both membership and application have something to
   * send; membership messages use the rest, and either side may use space the
   * other leaves empty.
   * @default 0.5
   */
  appPayloadShare: number
  /**
   * Most broadcasts held in the membership queue; beyond it the most-sent are
   * dropped.
   * @default 4096
   */
  maxQueuedBroadcasts: number
}

/** Tuning of cache replication (delta dissemination and anti-entropy). */
export interface ReplicationTuning {
  /**
   * Interval of anti-entropy rounds with one random live member over TCP
   * (0 disables; rounds on join still run). A round between nodes in sync
   * costs two small digests; a shorter interval repairs lost datagrams sooner.
   * Jittered ±50 %.
   * @default 2000 (lan), 1000 (local), 10000 (wan)
   */
  antiEntropyIntervalMs: number
  /**
   * Besides the eager push to every live member, each delta is piggybacked
   * on membership packets `deltaRetransmitMult × ceil(log10(N + 1))` times:
   * redundancy against loss between anti-entropy rounds. Uses only spare
   * room in datagrams membership sends anyway.
   * @default 2
   */
  deltaRetransmitMult: number
  /**
   * Most deltas held for piggybacking; beyond it the most-sent are dropped
   * (anti-entropy still repairs). Bounds memory under write bursts.
   * @default 4096
   */
  maxQueuedDeltas: number
  /**
   * Floor of the eager push's fan-out `k = max(eagerFanout, ceil(sqrt(N)))`.
   * A writer with at most `k` live peers pushes each turn to every one of
   * them (one hop); beyond it, to one relay in each of `k` groups, which
   * forwards to its group (two hops: the writer sends `k` datagrams per
   * turn instead of N − 1, visibility takes one more link delay). Relaying
   * needs every live member to announce the `bcache.relay` tag
   * (docs/eager-push-at-scale.md). Raise it to keep one hop in larger
   * clusters at the writer's expense.
   * @default 32
   */
  eagerFanout: number
}

/** Every tuning option: membership plus replication. */
export type Tuning = MembershipTuning & ReplicationTuning

export type ProfileName = 'lan' | 'local' | 'wan'

const lan: Tuning = {
  antiEntropyIntervalMs: 2000,
  deltaRetransmitMult: 2,
  maxQueuedDeltas: 4096,
  eagerFanout: 32,
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxTimeoutMult: 6,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  gossipToTheDeadMs: 30_000,
  reapDeadAfterMs: 60_000,
  pushPullIntervalMs: 30_000,
  tcpTimeoutMs: 10_000,
  tcpFallbackPing: true,
  awarenessMaxMultiplier: 8,
  packetBudgetBytes: 1400,
  appPayloadShare: 0.5,
  maxQueuedBroadcasts: 4096
}

/** Built-in profiles, after hashicorp/memberlist's LAN/local/WAN defaults. */
export const profiles: Readonly<Record<ProfileName, Readonly<Tuning>>> = {
  lan,
  local: {
    ...lan,
    probeIntervalMs: 200,
    probeTimeoutMs: 100,
    indirectChecks: 2,
    suspicionMult: 3,
    retransmitMult: 3,
    gossipIntervalMs: 50,
    gossipToTheDeadMs: 5_000,
    reapDeadAfterMs: 10_000,
    pushPullIntervalMs: 5_000,
    tcpTimeoutMs: 1_000,
    antiEntropyIntervalMs: 1_000
  },
  wan: {
    ...lan,
    probeIntervalMs: 5000,
    probeTimeoutMs: 3000,
    suspicionMult: 6,
    gossipIntervalMs: 500,
    gossipNodes: 4,
    gossipToTheDeadMs: 60_000,
    reapDeadAfterMs: 120_000,
    pushPullIntervalMs: 60_000,
    tcpTimeoutMs: 30_000,
    antiEntropyIntervalMs: 10_000
  }
}

/** Everything the membership engine needs: identity plus tuning. */
export interface MembershipConfig extends MembershipTuning {
  /** This node's unique id (1–256 UTF-8 bytes). */
  nodeId: string
  /** The "host:port" other nodes reach us at (defaults to the bound address). */
  advertiseAddr: string
}

type Check = (path: string, v: unknown) => unknown

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (path, v) => intIn(path, v, min, max)
const fraction: Check = (path, v) => finiteIn(path, v, 0, 1)

const DAY = 86_400_000
const checks: Record<keyof Tuning, Check> = {
  antiEntropyIntervalMs: int(0, DAY),
  deltaRetransmitMult: int(0, 1000),
  maxQueuedDeltas: int(0, 10_000_000),
  eagerFanout: int(1, 65_535),
  probeIntervalMs: int(1, DAY),
  probeTimeoutMs: int(1, DAY),
  indirectChecks: int(0, 64),
  suspicionMult: int(1, 1000),
  suspicionMaxTimeoutMult: int(1, 1000),
  retransmitMult: int(1, 1000),
  gossipIntervalMs: int(1, DAY),
  gossipNodes: int(0, 1000),
  gossipToTheDeadMs: int(0, DAY),
  reapDeadAfterMs: int(0, DAY),
  pushPullIntervalMs: int(0, DAY),
  tcpTimeoutMs: int(1, DAY),
  tcpFallbackPing: bool,
  awarenessMaxMultiplier: int(1, 1000),
  packetBudgetBytes: int(64, 65_000),
  appPayloadShare: fraction,
  maxQueuedBroadcasts: int(16, 10_000_000)
}
const tuningNames = Object.keys(checks)
const profileNames = Object.keys(profiles) as ProfileName[]

/**
 * Resolves a profile plus overrides into a complete tuning, validating every
 * field (see `option-checks.ts` for which error is thrown when). Messages
 * start with `option tuning.<name>: ` (`path` replaces `tuning`); unknown
 * option names are refused too (a typo must not silently do nothing).
 * Fields set to `undefined` keep the profile's value.
 */
export function resolveTuning(profile: ProfileName = 'lan', overrides: Partial<Tuning> = {}, path = 'tuning'): Tuning {
  const base = profiles[oneOf('profile', profile, profileNames)]
  const bag = object(path, overrides)
  knownKeys(path, bag, tuningNames)
  const out: Tuning = { ...base }
  for (const [name, value] of Object.entries(bag)) {
    if (value === undefined) continue
    checks[name as keyof Tuning](`${path}.${name}`, value)
    ;(out as unknown as Record<string, unknown>)[name] = value
  }
  if (out.probeTimeoutMs > out.probeIntervalMs) {
    throw new RangeError(optionMessage(`${path}.probeTimeoutMs`, `(${out.probeTimeoutMs}) must not exceed ${path}.probeIntervalMs (${out.probeIntervalMs})`))
  }
  if (out.reapDeadAfterMs < out.gossipToTheDeadMs) {
    throw new RangeError(optionMessage(`${path}.reapDeadAfterMs`, `(${out.reapDeadAfterMs}) must be at least ${path}.gossipToTheDeadMs (${out.gossipToTheDeadMs})`))
  }
  return out
}

/** Validates a node id: a non-empty string of at most 256 UTF-8 bytes (the wire's `maxIdBytes`). */
export function checkNodeId(nodeId: unknown): string {
  return str('nodeId', nodeId, { nonEmpty: true, maxBytes: DEFAULT_DECODE_LIMITS.maxIdBytes })
}
