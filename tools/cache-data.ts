/**
 * Deterministic benchmark data shared by cache-node and the cache benchmarks:
 * any process can tell which value a key must hold.
 */

/** Epoch ms with sub-ms precision; comparable across processes on one machine. */
export const epochNow = (): number => performance.timeOrigin + performance.now()

/** The key of item `i` of a writer's `prefix`. */
export const keyOf = (prefix: string, i: number): string => `${prefix}:${i}`

/** The value written under `keyOf(prefix, i)` (`tag` distinguishes overwrites): exactly `bytes` chars. */
export function valueFor(prefix: string, i: number, tag: number, bytes: number): string {
  const head = `${prefix}:${i}:${tag}:`
  return head.length >= bytes ? head.slice(0, bytes) : head + 'x'.repeat(bytes - head.length)
}
