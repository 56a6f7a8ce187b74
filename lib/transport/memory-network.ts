/**
 * A deterministic in-memory network for tests and the simulator. Every node
 * binds a {@link MemoryTransport}; all timing goes through the injected
 * `Clock` and all chance through the injected `Random`, so a run with a
 * `ManualClock` and a seeded random is exactly repeatable.
 *
 * Datagrams: `sendPacket` checks reachability (partition, one-way blocks),
 * then draws loss, copies the bytes, draws a delay uniform in
 * `[minDelayMs, maxDelayMs]` and schedules delivery with
 * `clock.setTimeout` (also for delay 0: never delivered inside the send
 * call, so handlers are never re-entered). Two packets with different delays
 * can overtake each other; with `duplicateRate` a second copy is scheduled
 * with its own delay. The destination is looked up at delivery time: a packet
 * to an address nobody is bound to (or that closed meanwhile) vanishes.
 *
 * Streams (see `memory-stream.ts`) are reliable and ordered: they take the
 * link's delay but never its loss or duplication. A stream needs the path in
 * both directions; cutting it resets the stream on its next send.
 *
 * Conditions: global ones from the constructor or `setConditions`, and
 * optional overrides per directed link (`setLinkConditions`), field by field.
 */
import type { Clock } from '../clock.js'
import { BindError } from '../errors.js'
import type { Random } from '../random.js'
import { chance, checkFaultModel, drawDelay, NO_FAULTS, type FaultModel } from './fault-model.js'
import { MemoryTransport, type MemoryFabric, type MemoryTransportInit } from './memory-transport.js'
import { parseAddress } from './transport.js'

export { MemoryTransport, type MemoryTransportInit } from './memory-transport.js'
export type { FaultModel } from './fault-model.js'

/** How one directed link (or the whole network) treats traffic: the shared {@link FaultModel}. */
export type LinkConditions = FaultModel

/** Totals over the whole network since creation. */
export interface MemoryNetworkStats {
  /** Datagrams handed to the network by open transports. */
  packetsSent: number
  /** Datagrams (duplicates included) that reached a bound transport. */
  packetsDelivered: number
  /** Datagrams lost: drawn by `lossRate`, blocked, or sent to an unbound address. */
  packetsDropped: number
  /** Extra copies scheduled by `duplicateRate`. */
  packetsDuplicated: number
  /** Streams established. */
  streamsOpened: number
}

/** An in-memory network of {@link MemoryTransport}s. */
export class MemoryNetwork implements MemoryFabric {
  readonly clock: Clock
  private readonly random: Random
  private conditions: LinkConditions
  // from -> to -> override; empty in the common case, checked by size first
  private readonly links = new Map<string, Map<string, Partial<LinkConditions>>>()
  // address -> partition group index; addresses absent here reach everyone
  private readonly groupOf = new Map<string, number>()
  // from -> set of `to` that from's traffic cannot reach
  private readonly blocked = new Map<string, Set<string>>()
  private readonly bound = new Map<string, MemoryTransport>()
  private nextAuto = 1
  private readonly totals: MemoryNetworkStats = {
    packetsSent: 0,
    packetsDelivered: 0,
    packetsDropped: 0,
    packetsDuplicated: 0,
    streamsOpened: 0
  }

  constructor(components: { clock: Clock; random: Random }, init: Partial<LinkConditions> = {}) {
    this.clock = components.clock
    this.random = components.random
    this.conditions = checkFaultModel({ ...NO_FAULTS, ...init }, 'conditions')
  }

  /**
   * Binds a transport at `address`, or at the next free automatic address
   * (`127.1.0.1:7946`, `127.1.0.2:7946`, ...). Throws `BindError` if the
   * address is taken, `TypeError` if it is not "host:port".
   */
  bind(address?: string, init?: MemoryTransportInit): MemoryTransport {
    let addr: string
    if (address === undefined) {
      do addr = autoAddress(this.nextAuto++)
      while (this.bound.has(addr))
    } else {
      parseAddress(address)
      if (this.bound.has(address)) throw new BindError(`address ${address} is already bound`)
      addr = address
    }
    const transport = new MemoryTransport(this, addr, init)
    this.bound.set(addr, transport)
    return transport
  }

  /** Changes the global conditions (fields not given keep their value). */
  setConditions(partial: Partial<LinkConditions>): void {
    this.conditions = checkFaultModel({ ...this.conditions, ...partial }, 'conditions')
  }

  /**
   * Overrides conditions on the directed link `from -> to`, field by field
   * (fields not overridden follow the global conditions). `undefined` removes
   * the override.
   */
  setLinkConditions(from: string, to: string, partial: Partial<LinkConditions> | undefined): void {
    let row = this.links.get(from)
    if (partial === undefined) {
      row?.delete(to)
      if (row?.size === 0) this.links.delete(from)
      return
    }
    const merged = { ...(row?.get(to) ?? {}), ...partial }
    checkFaultModel({ ...this.conditions, ...merged }, `link ${from} -> ${to}`)
    if (row === undefined) this.links.set(from, (row = new Map()))
    row.set(to, merged)
  }

  /**
   * Splits the network: traffic (datagrams and new or open streams) between
   * addresses in different groups is blocked. Addresses in no group reach
   * everyone. Replaces any previous partition.
   */
  partition(...groups: string[][]): void {
    this.groupOf.clear()
    groups.forEach((group, i) => {
      for (const addr of group) {
        if (this.groupOf.has(addr)) throw new TypeError(`address ${addr} is in more than one partition group`)
        this.groupOf.set(addr, i)
      }
    })
  }

  /** Removes the partition and every one-way block (link conditions stay). */
  heal(): void {
    this.groupOf.clear()
    this.blocked.clear()
  }

  /** Blocks traffic from `from` to `to` (one direction only). */
  block(from: string, to: string): void {
    let set = this.blocked.get(from)
    if (set === undefined) this.blocked.set(from, (set = new Set()))
    set.add(to)
  }

  /** Undoes {@link MemoryNetwork.block}. */
  unblock(from: string, to: string): void {
    const set = this.blocked.get(from)
    if (set === undefined) return
    set.delete(to)
    if (set.size === 0) this.blocked.delete(from)
  }

  /** True when a datagram from `from` could reach `to` (ignoring loss). */
  isReachable(from: string, to: string): boolean {
    if (this.groupOf.size > 0) {
      const a = this.groupOf.get(from)
      const b = this.groupOf.get(to)
      if (a !== undefined && b !== undefined && a !== b) return false
    }
    if (this.blocked.size > 0 && this.blocked.get(from)?.has(to) === true) return false
    return true
  }

  /** Addresses currently bound. */
  addresses(): string[] {
    return [...this.bound.keys()]
  }

  /** Totals since creation (a copy). */
  stats(): MemoryNetworkStats {
    return { ...this.totals }
  }

  /** @internal */
  connected(a: string, b: string): boolean {
    return this.isReachable(a, b) && this.isReachable(b, a)
  }

  /** @internal */
  streamDelay(from: string, to: string): number {
    return this.drawDelay(this.linkOverride(from, to))
  }

  /** @internal */
  lookup(address: string): MemoryTransport | undefined {
    return this.bound.get(address)
  }

  /** @internal */
  release(transport: MemoryTransport): void {
    if (this.bound.get(transport.address) === transport) this.bound.delete(transport.address)
  }

  /** @internal */
  streamOpened(): void {
    this.totals.streamsOpened++
  }

  /** @internal */
  routePacket(from: string, to: string, data: Uint8Array): void {
    const totals = this.totals
    totals.packetsSent++
    if (!this.isReachable(from, to)) {
      totals.packetsDropped++
      return
    }
    const link = this.linkOverride(from, to)
    if (chance(link?.lossRate ?? this.conditions.lossRate, this.random)) {
      totals.packetsDropped++
      return
    }
    this.schedule(from, to, Buffer.from(data), this.drawDelay(link))
    if (chance(link?.duplicateRate ?? this.conditions.duplicateRate, this.random)) {
      totals.packetsDuplicated++
      this.schedule(from, to, Buffer.from(data), this.drawDelay(link))
    }
  }

  private schedule(from: string, to: string, data: Buffer, delayMs: number): void {
    this.clock.setTimeout(() => this.deliver(from, to, data), delayMs)
  }

  private deliver(from: string, to: string, data: Buffer): void {
    const target = this.bound.get(to)
    if (target === undefined) {
      this.totals.packetsDropped++
      return
    }
    this.totals.packetsDelivered++
    target.receivePacket(data, from)
  }

  private linkOverride(from: string, to: string): Partial<LinkConditions> | undefined {
    return this.links.size === 0 ? undefined : this.links.get(from)?.get(to)
  }

  private drawDelay(link: Partial<LinkConditions> | undefined): number {
    return drawDelay(link?.minDelayMs ?? this.conditions.minDelayMs, link?.maxDelayMs ?? this.conditions.maxDelayMs, this.random)
  }
}

/** The n-th (from 1) automatic address: 127.1.0.1 ... 127.1.0.255, 127.1.1.1 ... (port 7946; no .0 hosts). */
function autoAddress(n: number): string {
  const block = Math.floor((n - 1) / 255)
  return `127.${1 + (block >>> 8)}.${block & 255}.${((n - 1) % 255) + 1}:7946`
}
