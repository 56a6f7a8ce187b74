/** Injected randomness: a function returning a float in [0, 1). */
export type Random = () => number

/**
 * A small seeded generator (mulberry32) for deterministic tests and the
 * simulator. Not for cryptography.
 */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Shuffles `items` in place with Fisher–Yates over `random`; returns it. */
export function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
  return items
}

/** A random integer in [0, n). */
export function randomInt(n: number, random: Random): number {
  return Math.floor(random() * n)
}
