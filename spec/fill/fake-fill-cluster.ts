/**
 * Test harness for the fill layer: several `Filler`s on a fake network driven
 * by one `ManualClock`. Each node's store is a `Map` with waiters; a write on
 * one node reaches the others after `replicationDelayMs`. Lease requests reach
 * the owner's `handleLeaseRequest` after `netDelayMs` and the reply comes back
 * after `netDelayMs` more; releases and failure notices arrive after
 * `netDelayMs`. A `down` node neither answers nor sends; a node
 * `declaredDead` is left out of everyone's alive members.
 */
import { ManualClock } from '../../lib/clock.js'
import type { FillLocal, FillPeers, LeaseReply } from '../../lib/fill/fill-peers.js'
import { Filler, type FillFn } from '../../lib/fill/filler.js'
import type { FillerInit } from '../../lib/fill/filler-options.js'
import { rendezvousOwner } from '../../lib/fill/rendezvous.js'

/** Lets every pending microtask (promise continuation) run. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** Advances `clock` by `ms` in steps of `stepMs`, flushing microtasks between steps. */
export async function drive(clock: ManualClock, ms: number, stepMs = 1): Promise<void> {
  await flush()
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(Math.min(stepMs, ms - t))
    await flush()
  }
}

/** The observable state of a promise, updated as it settles. */
export interface Tracked<T> {
  status: 'pending' | 'fulfilled' | 'rejected'
  value?: T
  error?: unknown
}

/** Tracks `p` without leaving its rejection unhandled. */
export function track<T>(p: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { status: 'pending' }
  p.then(
    (value) => {
      t.status = 'fulfilled'
      t.value = value
    },
    (error: unknown) => {
      t.status = 'rejected'
      t.error = error
    }
  )
  return t
}

/** A filler that counts its runs and concurrency and takes `ms` of clock time (forever if `ms` is Infinity). */
export class TestFiller {
  calls = 0
  active = 0
  maxActive = 0
  readonly signals: AbortSignal[] = []
  readonly keys: string[] = []

  constructor(
    private readonly clock: ManualClock,
    private readonly ms: number,
    private readonly result: (key: string) => string | Promise<string> = (key) => `value:${key}`
  ) {}

  readonly fn: FillFn<string> = (key, { signal }) => {
    this.calls++
    this.active++
    this.maxActive = Math.max(this.maxActive, this.active)
    this.signals.push(signal)
    this.keys.push(key)
    return new Promise<string>((resolve, reject) => {
      if (this.ms === Infinity) return // hangs: never settles
      this.clock.setTimeout(() => {
        this.active--
        Promise.resolve()
          .then(() => this.result(key))
          .then(resolve, reject)
      }, this.ms)
    })
  }
}

/** The first key `prefix<i>` whose owner among `members` is `owner`. */
export function keyOwnedBy(owner: string, members: readonly string[], prefix = 'key-'): string {
  for (let i = 0; ; i++) {
    const key = `${prefix}${i}`
    if (rendezvousOwner(key, members) === owner) return key
  }
}

/** One node of the fake cluster. */
export class FakeFillNode {
  readonly map = new Map<string, string>()
  readonly sets: Array<{ key: string; value: string; ttl: number | undefined }> = []
  readonly filler: Filler<string>
  /** The store seam given to the filler (a plain `setValue` here is a user's `set`). */
  readonly local: FillLocal<string>
  /** Crashed: sends and answers nothing. */
  down = false
  private readonly waiters = new Map<string, Set<(v: string) => void>>()

  constructor(
    readonly id: string,
    private readonly cluster: FakeFillCluster,
    init: FillerInit
  ) {
    const local: FillLocal<string> = (this.local = {
      get: (key) => this.map.get(key),
      setValue: (key, value, ttl) => {
        this.sets.push({ key, value, ttl })
        this.store(key, value)
        if (!this.down) cluster.replicate(this.id, key, value)
      },
      waitForValue: (key, signal) =>
        new Promise<string>((resolve, reject) => {
          if (signal.aborted) return reject(signal.reason)
          let set = this.waiters.get(key)
          if (set === undefined) this.waiters.set(key, (set = new Set()))
          const waiter = (v: string): void => {
            signal.removeEventListener('abort', onAbort)
            resolve(v)
          }
          const onAbort = (): void => {
            set.delete(waiter)
            if (set.size === 0) this.waiters.delete(key)
            reject(signal.reason)
          }
          set.add(waiter)
          signal.addEventListener('abort', onAbort, { once: true })
        })
    })
    const peers: FillPeers = {
      selfId: id,
      aliveMembers: () => cluster.aliveMembers(),
      requestLease: (ownerId, key, leaseMs, signal) => cluster.requestLease(this.id, ownerId, key, leaseMs, signal),
      releaseLease: (ownerId, key, error, leaseId) => cluster.releaseLease(this.id, ownerId, key, error, leaseId),
      notifyFailure: (requesterId, key, holderId, message) => cluster.notifyFailure(this.id, requesterId, key, holderId, message)
    }
    this.filler = new Filler<string>({ clock: cluster.clock, peers, local }, init)
  }

  /** Writes locally and wakes this node's waiters (a local write or a replicated one). */
  store(key: string, value: string): void {
    this.map.set(key, value)
    const set = this.waiters.get(key)
    if (set === undefined) return
    this.waiters.delete(key)
    for (const w of set) w(value)
  }

  /** Waiters registered through `waitForValue` and not yet resolved or aborted. */
  pendingWaits(): number {
    let n = 0
    for (const s of this.waiters.values()) n += s.size
    return n
  }
}

/** Several fillers on a fake network. */
export class FakeFillCluster {
  readonly clock = new ManualClock()
  readonly nodes = new Map<string, FakeFillNode>()
  /** One-way network delay of lease messages. */
  netDelayMs = 1
  /** Delay of releases only (default: `netDelayMs`): a release overtaken by a later request. */
  releaseDelayMs: number | undefined = undefined
  /** Delay before a write reaches the other nodes (0: synchronous). */
  replicationDelayMs = 2
  /** A request to a down node: `refuse` rejects after `netDelayMs`, `hang` never answers. */
  downMode: 'refuse' | 'hang' = 'refuse'
  /** Left out of the alive members (membership declared them dead). */
  readonly declaredDead = new Set<string>()
  requests = 0
  releases = 0
  /** Failure notices sent (owner to refused requester). */
  failureNotices = 0
  /** Drop every failure notice (a lossy network, or an owner of an older version). */
  dropFailureNotices = false

  constructor(ids: readonly string[], init: FillerInit = {}) {
    for (const id of ids) this.nodes.set(id, new FakeFillNode(id, this, init))
  }

  node(id: string): FakeFillNode {
    const n = this.nodes.get(id)
    if (n === undefined) throw new Error(`no node ${id}`)
    return n
  }

  aliveMembers(): string[] {
    return [...this.nodes.keys()].filter((id) => !this.declaredDead.has(id))
  }

  replicate(fromId: string, key: string, value: string): void {
    for (const n of this.nodes.values()) {
      if (n.id === fromId) continue
      const deliver = (): void => {
        if (!n.down) n.store(key, value)
      }
      if (this.replicationDelayMs === 0) deliver()
      else this.clock.setTimeout(deliver, this.replicationDelayMs)
    }
  }

  requestLease(fromId: string, ownerId: string, key: string, leaseMs: number, signal: AbortSignal): Promise<LeaseReply> {
    this.requests++
    return new Promise<LeaseReply>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      const onAbort = (): void => {
        this.clock.clearTimeout(timer)
        reject(signal.reason)
      }
      signal.addEventListener('abort', onAbort, { once: true })
      let timer = this.clock.setTimeout(() => {
        const owner = this.nodes.get(ownerId)
        if (owner === undefined || owner.down) {
          if (this.downMode === 'refuse') {
            signal.removeEventListener('abort', onAbort)
            reject(new Error(`${ownerId} unreachable`))
          }
          return
        }
        const reply = owner.filler.handleLeaseRequest(fromId, key, leaseMs)
        timer = this.clock.setTimeout(() => {
          signal.removeEventListener('abort', onAbort)
          if (!this.node(fromId).down) resolve(reply)
        }, this.netDelayMs)
      }, this.netDelayMs)
    })
  }

  releaseLease(fromId: string, ownerId: string, key: string, error?: string, leaseId?: number): void {
    this.releases++
    this.clock.setTimeout(() => {
      const owner = this.nodes.get(ownerId)
      if (owner !== undefined && !owner.down) owner.filler.handleLeaseRelease(fromId, key, error, leaseId)
    }, this.releaseDelayMs ?? this.netDelayMs)
  }

  notifyFailure(ownerId: string, toId: string, key: string, holderId: string, message: string): void {
    this.failureNotices++
    if (this.dropFailureNotices || this.node(ownerId).down) return
    this.clock.setTimeout(() => {
      const to = this.nodes.get(toId)
      if (to !== undefined && !to.down) to.filler.handleLeaseFailure(ownerId, key, holderId, message)
    }, this.netDelayMs)
  }

  close(): void {
    for (const n of this.nodes.values()) n.filler.close()
  }
}
