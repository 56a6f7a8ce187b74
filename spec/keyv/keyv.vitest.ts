/**
 * The official Keyv adapter suite, @keyv/test-suite 2.1.2 as published,
 * against `KeyvBcache` over one bcache node on the in-memory network with the
 * system clock (the suite sleeps in real time and freezes `Date` with
 * timekeeper). Run by vitest (`npm run test:keyv`, part of `npm test`), not
 * mocha: see vitest.config.mjs.
 *
 * `keyvTestSuite` is the suite's own entry (api, values, namespace tests).
 * The iterator tests are a separate export the suite leaves out of it: Keyv
 * 5 only wires an adapter's `iterator()` for its list of SQL/Redis dialects,
 * so they run here through a Keyv subclass that wires it the way Keyv does
 * for those (`generateIterator`), as a user would.
 */
import * as vitest from 'vitest'
import Keyv, { type KeyvOptions } from 'keyv'
import keyvTestSuite, { keyvIteratorTests } from '@keyv/test-suite'
import { Bcache } from '../../lib/bcache.js'
import { KeyvBcache } from '../../lib/keyv.js'
import { MemoryNetwork, seededRandom, systemClock } from '../../lib/testing.js'

const net = new MemoryNetwork({ clock: systemClock, random: seededRandom(1) })
const node = await Bcache.create<unknown>({ maxKeys: 10_000, profile: 'local', nodeId: 'keyv', peers: [], listenAddr: undefined as unknown as string }, { transport: net.bind() })
vitest.afterAll(async () => { await node.close() })

const store = (): KeyvBcache => new KeyvBcache(node)

/** Keyv with the adapter's iterator wired as Keyv 5 wires it for its iterable dialects. */
class IterableKeyv extends Keyv {
  constructor(options?: KeyvOptions) {
    super(options)
    const s = this.store as KeyvBcache
    this.iterator = this.generateIterator(s.iterator.bind(s))
  }
}

vitest.describe('@keyv/test-suite: keyvTestSuite', () => {
  keyvTestSuite(vitest, Keyv, store)
})

vitest.describe('@keyv/test-suite: keyvIteratorTests', () => {
  keyvIteratorTests(vitest, IterableKeyv as typeof Keyv, store)
})
