/**
 * The facade's key events (`set`, `delete`, `evict`, `expire`) and how they
 * cost nothing when nobody listens: {@link KeyEventWatch} keeps one boolean
 * per event, set on `newListener` and recomputed on `removeListener`, so a
 * write, a replicated delta or an eviction pays one property read unless a
 * listener is registered. A listener that throws is logged, never
 * propagated: the change it reports has already happened, and a replicated
 * write must not fail the rest of its datagram or batch (DESIGN.md
 * invariant 5).
 */
import type { EventEmitter } from 'node:events'
import type { Logger } from './logger.js'

/** Where the change an event reports was decided. */
export type KeyEventOrigin = 'local' | 'remote'

/**
 * The payload of a key event. `origin` is `'local'` for this node's own
 * `set`/`delete`, and always for `evict` and `expire` (local decisions,
 * never gossiped: invariant 3); `'remote'` for a write or delete that
 * arrived from a peer and changed this node's store.
 */
export interface KeyEvent {
  key: string
  origin: KeyEventOrigin
}

/** The names of the key events. */
export type KeyEventName = 'set' | 'delete' | 'evict' | 'expire'

const keyEventNames: ReadonlySet<string | symbol> = new Set<KeyEventName>(['set', 'delete', 'evict', 'expire'])

/** Which key events have listeners on an emitter (see the file comment). */
export class KeyEventWatch {
  set = false
  delete = false
  evict = false
  expire = false

  constructor(private readonly emitter: EventEmitter, private readonly logger: Logger) {
    // 'newListener' fires before the listener is added, 'removeListener' after it is removed.
    emitter.on('newListener', (name: string | symbol) => {
      if (keyEventNames.has(name)) this[name as KeyEventName] = true
    })
    emitter.on('removeListener', (name: string | symbol) => {
      if (keyEventNames.has(name)) this[name as KeyEventName] = emitter.listenerCount(name) > 0
    })
  }

  /** Emits `name` for `key` if anyone listens; a listener's throw is logged. */
  emit(name: KeyEventName, key: string, origin: KeyEventOrigin): void {
    if (!this[name]) return
    try {
      this.emitter.emit(name, { key, origin } satisfies KeyEvent)
    } catch (err) {
      this.logger.error(`bcache: a '${name}' listener threw: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
