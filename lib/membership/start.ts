/**
 * Convenience entry: bind a real UDP+TCP transport, build a membership engine
 * with a profile and overrides, start it and join seeds. What the benchmarks,
 * the CLI and the cache facade use to get a running node in one call.
 */
import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import { systemClock, type Clock } from '../clock.js'
import { silentLogger, type Logger } from '../logger.js'
import { checkNodeId, resolveTuning, type MembershipTuning, type ProfileName } from '../options.js'
import type { Random } from '../random.js'
import { parseAddress } from '../transport/transport.js'
import { UdpTcpTransport } from '../transport/udp-tcp-transport.js'
import type { MembershipDelegate } from './delegate.js'
import { Membership } from './membership.js'

export interface StartMembershipOptions {
  /** "host:port" to bind; port 0 picks a free port. */
  listenAddr: string
  /** Seeds to join ("host:port"); empty for the first node. */
  peers?: readonly string[]
  /** Keep retrying the seeds this long when none answers, ms (join.ts); 0 = fail at once. @default 0 */
  joinTimeoutMs?: number
  /** Unique node id. @default `${hostname}-${pid}-${random}` */
  nodeId?: string
  /** Address peers should use to reach us. @default the bound address */
  advertiseAddr?: string
  /** Tuning profile. @default 'lan' */
  profile?: ProfileName
  /** Overrides of individual tuning options. */
  tuning?: Partial<MembershipTuning>
  logger?: Logger
  delegate?: MembershipDelegate
  clock?: Clock
  random?: Random
}

/** A default node id, unique per process (and per call). */
export function defaultNodeId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
}

/**
 * Binds, starts and joins. Throws `TypeError`/`RangeError` on bad options
 * (before binding anything), `BindError` when the address is taken,
 * `JoinError` when no seed answered (after releasing the sockets).
 */
export async function startMembership(opts: StartMembershipOptions): Promise<Membership> {
  const { host, port } = parseAddress(opts.listenAddr)
  const nodeId = checkNodeId(opts.nodeId ?? defaultNodeId())
  const tuning = resolveTuning(opts.profile ?? 'lan', opts.tuning ?? {})
  const peers = opts.peers ?? []
  if (!Array.isArray(peers)) throw new TypeError('option peers must be an array of "host:port" strings')
  for (const p of peers) parseAddress(p)
  if (opts.advertiseAddr !== undefined) parseAddress(opts.advertiseAddr)
  const logger = opts.logger ?? silentLogger
  const transport = await UdpTcpTransport.bind({ host, port, logger })
  const membership = new Membership(
    {
      transport,
      clock: opts.clock ?? systemClock,
      random: opts.random ?? Math.random,
      logger,
      ...(opts.delegate !== undefined ? { delegate: opts.delegate } : {})
    },
    { ...tuning, nodeId, advertiseAddr: opts.advertiseAddr ?? transport.address }
  )
  membership.start()
  try {
    await membership.join(peers, { timeoutMs: opts.joinTimeoutMs ?? 0 })
  } catch (err) {
    await membership.shutdown()
    throw err
  }
  return membership
}
