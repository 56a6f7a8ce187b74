/**
 * The keyring of the encryption envelope: the AES-256 keys a node accepts,
 * one of which (the primary) encrypts everything it sends.
 *
 * Rotation on a live cluster, without dropping traffic:
 *   1. `add(newKey)` on every node: all nodes now accept it, still send with the old one.
 *   2. `use(newKey)` on every node: each starts sending with it; the others accept it already.
 *   3. `remove(oldKey)` on every node once step 2 is done everywhere.
 *
 * A leaf: imports only the error classes.
 */
import { InvalidStateError } from '../errors.js'

/** Length of every key: AES-256. */
export const KEY_BYTES = 32

/**
 * Validates one key; `what` names the option or argument in the error.
 * @throws TypeError unless a Buffer/Uint8Array; RangeError unless 32 bytes
 */
export function checkKey(key: unknown, what: string): Buffer {
  if (!(key instanceof Uint8Array)) throw new TypeError(`${what} must be a Buffer of ${KEY_BYTES} bytes, got ${key === null ? 'null' : typeof key}`)
  if (key.length !== KEY_BYTES) throw new RangeError(`${what} must be ${KEY_BYTES} bytes (AES-256), got ${key.length}`)
  return Buffer.from(key) // a private copy: the caller may reuse its buffer
}

/**
 * An ordered set of 32-byte keys; the first is the primary. Empty = no
 * encryption. Keys are copied in and out, never shared.
 */
export class Keyring {
  /** Primary first; no two equal. */
  private ring: Buffer[] = []

  /** @param keys primary first; validated (`secretKeys[i]` in errors) */
  constructor(keys: readonly Uint8Array[] = []) {
    if (!Array.isArray(keys)) throw new TypeError('option secretKeys must be an array of 32-byte Buffers')
    keys.forEach((k, i) => {
      const key = checkKey(k, `option secretKeys[${i}]`)
      if (this.indexOf(key) < 0) this.ring.push(key)
    })
  }

  /** True when at least one key is installed (the node then encrypts). */
  get enabled(): boolean {
    return this.ring.length > 0
  }

  /** The key that encrypts what this node sends; undefined when the ring is empty. */
  primary(): Buffer | undefined {
    return this.ring[0]
  }

  /** Every key, primary first (copies). */
  keys(): Buffer[] {
    return this.ring.map((k) => Buffer.from(k))
  }

  /** @internal the live keys, primary first, for decryption (do not modify) */
  all(): readonly Buffer[] {
    return this.ring
  }

  /**
   * Accepts `key` for decryption. On an empty ring it becomes the primary
   * (the node starts encrypting). Adding a key already present does nothing.
   */
  add(key: Uint8Array): void {
    const k = checkKey(key, 'keyring.add(key)')
    if (this.indexOf(k) < 0) this.ring.push(k)
  }

  /** Makes `key` the primary (adding it when absent). */
  use(key: Uint8Array): void {
    const k = checkKey(key, 'keyring.use(key)')
    const i = this.indexOf(k)
    if (i >= 0) this.ring.splice(i, 1)
    this.ring.unshift(k)
  }

  /**
   * Stops accepting `key`. Returns whether it was present.
   * @throws InvalidStateError (`BCACHE_ERR_INVALID_STATE`) when `key` is the primary (`use` another key first)
   */
  remove(key: Uint8Array): boolean {
    const k = checkKey(key, 'keyring.remove(key)')
    const i = this.indexOf(k)
    if (i === 0) throw new InvalidStateError('keyring.remove(key): cannot remove the primary key; use() another key first')
    if (i < 0) return false
    this.ring.splice(i, 1)
    return true
  }

  private indexOf(key: Buffer): number {
    return this.ring.findIndex((k) => k.equals(key))
  }
}
