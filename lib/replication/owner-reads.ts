/**
 * Partition mode's `fetch` on this node's side: one read per key in flight,
 * asked of the key's owners (remote-read.ts), kept in the near cache unless
 * a newer write passed while it was in flight (then read once more). An
 * owner that lacked the key (still receiving its segments) keeps what it
 * read. A value that does not decode is dropped and counted: the read
 * answers undefined, as a miss.
 */
import type { Clock } from '../clock.js'
import type { DropCounts } from '../drop-counts.js'
import { compareVersions } from '../store/version.js'
import { decodeValue, type VersionedStore } from '../store/versioned-store.js'
import type { Delta } from './delta.js'
import type { NearCache } from './near-cache.js'
import type { Ownership } from './ownership.js'
import type { RemoteRead } from './remote-read.js'

export interface OwnerReadsComponents {
  clock: Clock
  store: VersionedStore
  drops: DropCounts
  near: NearCache
  ownership: Ownership
  reads: RemoteRead
  /** Applies a delta an owner sent back (this node owns the key too). */
  applyRead: (d: Delta) => void
}

export class OwnerReads {
  private readonly inFlight = new Map<string, Promise<unknown>>()

  constructor(private readonly c: OwnerReadsComponents) {}

  /** The value of `key` from an owner; undefined when no owner holds it. */
  fetch(key: string): Promise<unknown> {
    let p = this.inFlight.get(key)
    if (p === undefined) {
      p = this.read(key).finally(() => this.inFlight.delete(key))
      this.inFlight.set(key, p)
    }
    return p
  }

  private async read(key: string): Promise<unknown> {
    const { near, clock, ownership } = this.c
    for (let attempt = 0; ; attempt++) {
      near.begin(key)
      try {
        const d = await this.c.reads.read(key, ownership.ownersOfKey(key))
        const now = clock.now()
        if (d === undefined || d.bytes === undefined || (d.expiresAt !== 0 && now >= d.expiresAt)) return undefined
        const passed = near.passedSince(key)
        if (passed !== undefined && compareVersions(passed, d.version) > 0 && attempt === 0) continue // a newer write passed meanwhile: read again
        const value = this.decoded(d.bytes)
        if (value === undefined) return undefined
        if (ownership.owns(key)) {
          this.c.applyRead(d)
          return this.c.store.get(key, () => clock.now()) ?? value
        }
        near.put(key, value, d.version, d.expiresAt, now)
        return value
      } finally {
        near.end(key)
      }
    }
  }

  private decoded(bytes: Buffer): unknown {
    try {
      return decodeValue(bytes)
    } catch {
      this.c.drops.count('fetch-value')
      return undefined
    }
  }
}
