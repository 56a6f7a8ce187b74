/**
 * The facade's key events (`set`, `delete`, `evict`, `expire`) and how they
 * cost nothing when nobody listens: before building a payload,
 * {@link KeyEvents.emit} asks the emitter's `listenerCount` (one property
 * read in Node's `EventEmitter`), so a write, a replicated delta or an
 * eviction pays that check and nothing else unless a listener is
 * registered. (Booleans kept on `newListener`/`removeListener` would be
 * as cheap but go wrong after a user's `removeAllListeners()`, which also
 * removes the `newListener` watcher.) A listener that throws is logged,
 * never propagated: the change it reports has already happened, and a
 * replicated write must not fail the rest of its datagram or batch
 * (DESIGN.md invariant 5).
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

/** Emits key events on an emitter (see the file comment). */
export class KeyEvents {
  constructor(private readonly emitter: EventEmitter, private readonly logger: Logger) {}

  /** Emits `name` for `key` if anyone listens; a listener's throw is logged. */
  emit(name: KeyEventName, key: string, origin: KeyEventOrigin): void {
    if (this.emitter.listenerCount(name) === 0) return
    try {
      this.emitter.emit(name, { key, origin } satisfies KeyEvent)
    } catch (err) {
      this.logger.error(`bcache: a '${name}' listener threw: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
