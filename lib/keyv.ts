/**
 * `bcache/keyv`: a Keyv 5 storage adapter over a bcache node, so that Keyv,
 * and cache-manager 7 on top of it, read and write the replicated cache.
 *
 * How it maps: Keyv prefixes every key with its namespace (`ns:key`) and
 * serializes `{ value, expires }` (a JSON string by default) before the
 * adapter sees it, so the adapter stores what it is given under the key it is
 * given: a read is the node's local `get`, a write replicates to every node,
 * Keyv's ms TTL becomes the entry's bcache TTL (expiry on every node). The
 * namespace is used by `clear()` only: it removes the keys under `ns:`.
 *
 * The adapter wraps a node the caller created and owns: closing the node is
 * the caller's business (no `disconnect`). Nothing is imported from keyv at
 * run time (types only), so `bcache/keyv` loads without keyv installed.
 *
 * cache-manager's `wrap()` runs its own loader, coalesced per process only;
 * {@link bcacheWrap} routes a fill through `getWithFiller` instead, so a
 * storm on every node runs the loader once per cluster.
 */
import { EventEmitter } from 'node:events'
import type { Keyv, KeyvStoreAdapter, StoredData } from 'keyv'
import type { Bcache, FillCallOptions } from './bcache.js'

/**
 * Keyv storage adapter over one bcache node: `new Keyv({ store: new KeyvBcache(node) })`.
 * Any value Keyv hands over (a string, or an object with `serialize: undefined`)
 * is stored as is; it must be msgpack-able and within the node's `maxValueBytes`.
 */
export class KeyvBcache extends EventEmitter implements KeyvStoreAdapter {
  /** Keyv reads `opts` (iterator detection); `url` must be a string there. */
  opts: { dialect: 'bcache'; url: string; [key: string]: unknown } = { dialect: 'bcache', url: '' }
  /** Set by Keyv to its namespace; `clear()` removes the keys under `${namespace}:`. */
  namespace?: string | undefined

  /** @param cache the node to read and write; the caller keeps closing it. */
  constructor(readonly cache: Bcache<unknown>) {
    super()
    if (cache === null || typeof cache !== 'object' || typeof cache.getWithFiller !== 'function') {
      throw new TypeError('cache must be a Bcache instance')
    }
  }

  /** The value of `key`: local; in partition mode, read from an owner on a local miss (`Bcache.fetch`). */
  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    if (this.cache.mode !== 'partition') return this.cache.get(key) as StoredData<Value> | undefined
    return await this.cache.fetch(key).catch(() => undefined) as StoredData<Value> | undefined // its local read counts the hit or miss once
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((k) => this.get<Value>(k)))
  }

  /** Writes `key` everywhere; `ttl` in ms (absent or 0: the node's `ttl` option). */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    this.cache.set(key, value, typeof ttl === 'number' && ttl > 0 ? { ttl } : {})
    return true
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    for (const e of entries) await this.set(e.key, e.value, e.ttl)
  }

  /** Deletes `key` everywhere; true when this node held a value. */
  async delete(key: string): Promise<boolean> {
    return this.cache.delete(key)
  }

  /** Deletes every key; true when this node held a value of any of them. */
  async deleteMany(keys: string[]): Promise<boolean> {
    let any = false
    for (const k of keys) any = this.cache.delete(k) || any
    return any
  }

  async has(key: string): Promise<boolean> {
    return this.cache.has(key)
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    return keys.map((k) => this.cache.has(k))
  }

  /**
   * Removes every key under `${namespace}:` (every key when Keyv runs
   * without a namespace), on every node.
   */
  async clear(): Promise<void> {
    const prefix = this.namespace === undefined || this.namespace === '' ? '' : `${this.namespace}:`
    // A cluster-wide, versioned clear: a write from before it does not survive on any node.
    this.cache.clear(prefix === '' ? {} : { prefix })
  }

  /**
   * `[key, storedValue]` for the keys under `namespace` this node holds
   * (the raw form Keyv stored). Keyv 5 wires an adapter's iterator only for
   * its own list of SQL/Redis dialects, so `keyv.iterator` stays undefined
   * with this adapter; call this directly, or see the README for the wiring.
   */
  async *iterator<Value>(namespace?: string): AsyncGenerator<Array<string | Awaited<Value> | undefined>, void> {
    const prefix = namespace === undefined || namespace === '' ? '' : `${namespace}:`
    for (const [key, value] of this.cache.entries()) {
      if (key.startsWith(prefix)) yield [key, value as Awaited<Value>]
    }
  }
}

/** What {@link bcacheWrap} needs of a Keyv instance. */
export type WrapKeyv = Pick<Keyv, 'store' | 'namespace' | 'useKeyPrefix' | 'serializeData' | 'deserializeData'>

/**
 * cache-manager's `wrap(key, loader, ttl)`, single-filled through bcache:
 * on a miss, `loader` runs once per cluster (while it is healthy; see
 * `getWithFiller`) and its value is stored in Keyv's format under Keyv's
 * key, so `keyv.get(key)` and cache-manager's `get(key)` see it on every
 * node. `target` is the Keyv over a {@link KeyvBcache}, or a cache-manager
 * cache whose `stores` hold one (only that store is filled).
 */
export async function bcacheWrap<T>(target: WrapKeyv | { stores: WrapKeyv[] }, key: string,
  loader: () => Promise<T> | T, options: FillCallOptions = {}): Promise<T> {
  const keyv = 'stores' in target ? target.stores.find((s) => s.store instanceof KeyvBcache) : target
  const store = keyv?.store as unknown
  if (keyv === undefined || !(store instanceof KeyvBcache)) throw new TypeError('target must be a Keyv over a KeyvBcache, or a cache with one in stores')
  const prefixed = keyv.useKeyPrefix && keyv.namespace && !key.startsWith(`${keyv.namespace}:`) ? `${keyv.namespace}:${key}` : key
  const { ttl } = options
  const raw = await store.cache.getWithFiller(prefixed, async () => {
    const value = await loader()
    return keyv.serializeData({ value, expires: typeof ttl === 'number' && ttl > 0 ? Date.now() + ttl : undefined })
  }, options)
  const data = await keyv.deserializeData(raw as string)
  return data?.value as T
}
