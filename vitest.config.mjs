// Vitest runs only the official Keyv adapter suite (@keyv/test-suite) against
// bcache/keyv, on the compiled spec (`npm run build` first; `npm test` does).
// Everything else is mocha's.
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // vitest's results cache under dist/, not in the (shared) node_modules
  cacheDir: 'dist/.vite',
  test: {
    include: ['dist/spec/keyv/keyv.vitest.js'],
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 10_000,
    hookTimeout: 20_000,
    teardownTimeout: 5_000,
    watch: false
  }
})
