/**
 * Fault injection for chaos tests: a {@link Transport} that wraps another one
 * (usually a real `UdpTcpTransport`) and misbehaves on purpose, with faults
 * that can be changed at run time.
 *
 * Datagrams. Every outgoing datagram first passes the partition check (an
 * address that is blocked gets nothing), then draws loss with the injected
 * `random`; a survivor draws a delay uniform in `[minDelayMs, maxDelayMs]`
 * and, with `duplicateRate`, a second copy with its own delay. A delay of 0
 * sends at once, inside the call (the wrapped transport's own behaviour is
 * left untouched); a positive one copies the bytes and sends them from a
 * timer of the injected `clock`, so two datagrams can overtake each other.
 * Faults act on the way out only: with the same faults on every node, each
 * datagram crosses exactly one fault stage, so a `lossRate` of 0.2 loses 20 %
 * of the datagrams on every link.
 *
 * Partitions. `block(addr)` drops datagrams to `addr` and datagrams arriving
 * from `addr` (UDP shares the port, so the sender is recognised), makes
 * dials to `addr` hang until their timeout (a SYN into a black hole), and
 * destroys the streams this node had dialed to `addr`. A stream `addr`
 * dialed *to us* cannot be recognised: its remote address is the peer's
 * ephemeral TCP port. So a partition must be made on both sides (the peer
 * blocks us too, which destroys that stream at its end and refuses its new
 * dials); `isolate()` on every node of both groups does exactly that.
 *
 * Streams are otherwise left alone: they are reliable and ordered, as TCP is.
 */
import { systemClock, type Clock, type Timer } from '../clock.js'
import { DropCounts, mergeCounts } from '../drop-counts.js'
import { ClosedError, StreamError, TimeoutError } from '../errors.js'
import type { Random } from '../random.js'
import { chance, checkFaultModel, drawDelay, NO_FAULTS, type FaultModel } from './fault-model.js'
import type { PacketHandler, StreamConn, StreamHandler, Transport, TransportStats } from './transport.js'

/** Faults applied to outgoing datagrams: the shared {@link FaultModel}. */
export type PacketFaults = FaultModel

/** Counts of what the fault stage did, since creation. */
export interface FaultStats {
  /** Datagrams dropped by `lossRate`. */
  lost: number
  /** Datagrams sent after a positive delay (duplicates included). */
  delayed: number
  /** Extra copies sent by `duplicateRate`. */
  duplicated: number
  /** Datagrams dropped because the peer is blocked (either direction). */
  blockedPackets: number
  /** Dials refused and dialed streams destroyed because the peer is blocked. */
  blockedStreams: number
}

/** Collaborators of a {@link FaultTransport}. */
export interface FaultTransportComponents {
  /** Runs the delays and the black-holed dials' timeouts. @default systemClock */
  clock?: Clock
  /** Draws loss, delay and duplication. @default Math.random */
  random?: Random
}

/** A {@link Transport} that drops, delays, duplicates and partitions on demand. */
export class FaultTransport implements Transport {
  readonly inner: Transport
  private readonly clock: Clock
  private readonly random: Random
  private faults: PacketFaults = { ...NO_FAULTS }
  // addresses this node neither sends to, nor hears from, nor dials
  private readonly blocked = new Set<string>()
  // streams this node dialed, with their target: block() destroys them
  private readonly dialed = new Map<StreamConn, string>()
  // delayed datagrams not yet due: close() cancels them
  private readonly timers = new Set<Timer>()
  // black-holed dials not yet timed out, with their reject: close() rejects them
  private readonly hanging = new Map<Timer, (err: Error) => void>()
  private readonly counts: FaultStats = { lost: 0, delayed: 0, duplicated: 0, blockedPackets: 0, blockedStreams: 0 }
  private isClosed = false

  constructor(inner: Transport, components: FaultTransportComponents = {}) {
    this.inner = inner
    this.clock = components.clock ?? systemClock
    this.random = components.random ?? Math.random
  }

  get address(): string {
    return this.inner.address
  }

  /** The datagram faults now in force (a copy). */
  getFaults(): PacketFaults {
    return { ...this.faults }
  }

  /**
   * Changes the datagram faults; fields not given keep their value.
   * Throws `RangeError` on a rate outside [0, 1] or a bad delay range.
   */
  setFaults(partial: Partial<PacketFaults>): void {
    this.faults = checkFaultModel({ ...this.faults, ...partial }, 'faults')
  }

  /** Removes every datagram fault (partitions stay). */
  clearFaults(): void {
    this.faults = { ...NO_FAULTS }
  }

  /** Cuts this node off from `address` (see the top of the file: block both sides). */
  block(address: string): void {
    this.blocked.add(address)
    for (const [conn, to] of this.dialed) {
      if (to !== address) continue
      this.dialed.delete(conn)
      if (!conn.closed) {
        this.counts.blockedStreams++
        conn.destroy(new StreamError(`fault injection: ${address} is blocked`))
      }
    }
  }

  /** Undoes {@link FaultTransport.block}. */
  unblock(address: string): void {
    this.blocked.delete(address)
  }

  /** Blocks exactly `addresses` (replacing any earlier block set). */
  isolate(addresses: readonly string[]): void {
    this.blocked.clear()
    for (const a of addresses) this.block(a)
  }

  /** Unblocks everything. */
  heal(): void {
    this.blocked.clear()
  }

  /** Addresses now blocked. */
  blockedAddresses(): string[] {
    return [...this.blocked]
  }

  /** What the fault stage did since creation (a copy). */
  faultStats(): FaultStats {
    return { ...this.counts }
  }

  sendPacket(to: string, data: Uint8Array): void {
    if (this.isClosed) return this.inner.sendPacket(to, data) // the inner transport counts it
    if (this.blocked.has(to)) {
      this.counts.blockedPackets++
      return
    }
    const f = this.faults
    if (chance(f.lossRate, this.random)) {
      this.counts.lost++
      return
    }
    const copies = chance(f.duplicateRate, this.random) ? 2 : 1
    if (copies === 2) this.counts.duplicated++
    for (let i = 0; i < copies; i++) this.sendAfter(to, data, drawDelay(f.minDelayMs, f.maxDelayMs, this.random))
  }

  onPacket(handler: PacketHandler): void {
    this.inner.onPacket((data, from) => {
      if (this.blocked.has(from)) {
        this.counts.blockedPackets++
        return
      }
      handler(data, from)
    })
  }

  onStream(handler: StreamHandler): void {
    this.inner.onStream(handler)
  }

  /**
   * Dials through the wrapped transport; to a blocked address the dial hangs
   * and rejects with `TimeoutError` after `timeoutMs` (on the injected clock).
   */
  dialStream(to: string, timeoutMs: number): Promise<StreamConn> {
    if (this.isClosed || !this.blocked.has(to)) return this.dialInner(to, timeoutMs)
    this.counts.blockedStreams++
    return new Promise((_, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.hanging.delete(timer)
        reject(new TimeoutError(`dialing ${to} timed out after ${timeoutMs} ms (fault injection: blocked)`))
      }, timeoutMs)
      this.hanging.set(timer, reject)
    })
  }

  /** The wrapped transport's counters, plus the fault stage's drops by reason. */
  stats(): TransportStats {
    const s = this.inner.stats()
    const own = new DropCounts()
    if (this.counts.lost > 0) own.count('fault-loss', this.counts.lost)
    if (this.counts.blockedPackets > 0) own.count('fault-blocked', this.counts.blockedPackets)
    return { ...s, dropped: mergeCounts(s.dropped, own.byReason) }
  }

  /** Cancels pending delayed datagrams, rejects hanging dials and closes the wrapped transport. Idempotent. */
  async close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true
      for (const t of this.timers) this.clock.clearTimeout(t)
      this.timers.clear()
      for (const [t, reject] of this.hanging) {
        this.clock.clearTimeout(t)
        reject(new ClosedError('transport'))
      }
      this.hanging.clear()
      this.dialed.clear()
    }
    await this.inner.close()
  }

  private async dialInner(to: string, timeoutMs: number): Promise<StreamConn> {
    const conn = await this.inner.dialStream(to, timeoutMs)
    if (this.blocked.has(to)) {
      // blocked while the handshake was in flight
      this.counts.blockedStreams++
      conn.destroy(new StreamError(`fault injection: ${to} is blocked`))
      throw new StreamError(`fault injection: ${to} was blocked while dialing`)
    }
    for (const c of this.dialed.keys()) if (c.closed) this.dialed.delete(c)
    this.dialed.set(conn, to)
    return conn
  }

  private sendAfter(to: string, data: Uint8Array, delayMs: number): void {
    if (delayMs <= 0) return this.inner.sendPacket(to, data)
    this.counts.delayed++
    const copy = Buffer.from(data)
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer)
      // a block set meanwhile catches the datagram still "on the wire"
      if (this.blocked.has(to)) this.counts.blockedPackets++
      else this.inner.sendPacket(to, copy)
    }, delayMs)
    this.timers.add(timer)
  }
}
