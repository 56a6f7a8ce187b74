/**
 * The replication mode among the create options (`mode`, and partition
 * mode's `replicas`, `nearCacheKeys`, `nearCacheTtl`), their defaults and
 * checks — apart from the other options (bcache-options.ts): they choose
 * which parts of the replication layer run.
 */
import type { BcacheOptions } from './bcache-options.js'
import { nonNegativeInt, oneOf, optionMessage, positiveInt } from './option-checks.js'

/** See {@link BcacheOptions.mode}. */
export type ReplicationMode = 'replicate' | 'invalidate' | 'partition'

/** Every value {@link BcacheOptions.mode} takes. */
export const REPLICATION_MODES: readonly ReplicationMode[] = ['replicate', 'invalidate', 'partition']

/** Owners of each key in partition mode, by default. */
export const DEFAULT_REPLICAS = 2
/** Values of keys not owned a partition-mode node holds for reads, by default. */
export const DEFAULT_NEAR_CACHE_KEYS = 10_000
/** Longest a near-cache value is held, by default (ms): the bound on a copy whose every update was lost. */
export const DEFAULT_NEAR_CACHE_TTL_MS = 60_000

export interface ModeOptions {
  mode: ReplicationMode
  /** Partition mode's settings; undefined in the other modes. */
  partition: { replicas: number; nearCacheKeys: number; nearCacheTtlMs: number } | undefined
}

/** Checks `mode` and the partition options (refused in the other modes: they would do nothing). */
export function resolveMode(opts: BcacheOptions): ModeOptions {
  const mode = oneOf('mode', opts.mode ?? 'replicate', REPLICATION_MODES)
  if (mode !== 'partition') {
    for (const name of ['replicas', 'nearCacheKeys', 'nearCacheTtl'] as const) {
      if (opts[name] !== undefined) throw new TypeError(optionMessage(name, `applies only to mode 'partition' (mode is '${mode}')`))
    }
    return { mode, partition: undefined }
  }
  return {
    mode,
    partition: {
      replicas: positiveInt('replicas', opts.replicas ?? DEFAULT_REPLICAS),
      nearCacheKeys: nonNegativeInt('nearCacheKeys', opts.nearCacheKeys ?? DEFAULT_NEAR_CACHE_KEYS),
      nearCacheTtlMs: nonNegativeInt('nearCacheTtl', opts.nearCacheTtl ?? DEFAULT_NEAR_CACHE_TTL_MS)
    }
  }
}
