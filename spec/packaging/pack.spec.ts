/**
 * The package as a user gets it: `npm pack` the repository (dist/ as built),
 * install the tarball into a fresh temporary app, and use every subpath
 * (`bcache`, `bcache/membership`, `bcache/testing`) from ESM and `bcache`
 * from CommonJS, as a user would. Dependencies come from the npm cache
 * (`--offline`), else from the registry; the spec skips, saying why, only
 * when npm cannot pack or no registry is reachable.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect } from 'chai'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url)) // dist/spec/packaging → repo
const NETWORK_ERRORS = /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH/

/** The environment without npm's per-run variables (a spec started by `npm test` inherits them). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.toLowerCase().startsWith('npm_')) env[k] = v
  return { ...env, npm_config_update_notifier: 'false', npm_config_loglevel: 'error' }
}

function npm(args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  return run('npm', args, { cwd, env: cleanEnv(), timeout: 40_000, maxBuffer: 16 * 1024 * 1024 })
}

const ESM_SCRIPT = `
import * as main from 'bcache'
import * as membership from 'bcache/membership'
import * as testing from 'bcache/testing'
const { Bcache } = main
const { MemoryNetwork, seededRandom, systemClock } = testing
const net = new MemoryNetwork({ clock: systemClock, random: seededRandom(1) })
const keepAlive = setInterval(() => {}, 1000) // bcache's own timers are unref'd, the memory network holds no socket
const opts = { maxKeys: 100, profile: 'local' }
const a = await Bcache.create({ ...opts, nodeId: 'a', peers: [] }, { transport: net.bind() })
const b = await Bcache.create({ ...opts, nodeId: 'b', peers: [a.address] }, { transport: net.bind() })
a.set('k', { v: 1 })
const deadline = Date.now() + 10_000
while (b.get('k') === undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
const out = {
  main: Object.keys(main).sort(),
  membership: Object.keys(membership).sort(),
  testing: Object.keys(testing).sort(),
  value: b.get('k'),
  members: b.members().length
}
await Promise.all([a.close(), b.close()])
clearInterval(keepAlive)
console.log(JSON.stringify(out))
`

// The integrations, as a user installs them: their libraries next to the tarball.
const INTEGRATIONS = ['keyv@5.6.0', 'cache-manager@7.2.9', 'prom-client@15.1.3', '@opentelemetry/api@1.10.0']

const INTEGRATION_SCRIPT = `
import { Bcache } from 'bcache'
import { MemoryNetwork, seededRandom, systemClock } from 'bcache/testing'
import { KeyvBcache, bcacheWrap } from 'bcache/keyv'
import { registerBcacheMetrics } from 'bcache/prometheus'
import { registerBcacheOtelMetrics } from 'bcache/opentelemetry'
import Keyv from 'keyv'
import { createCache } from 'cache-manager'
import * as client from 'prom-client'
import { metrics } from '@opentelemetry/api'
const net = new MemoryNetwork({ clock: systemClock, random: seededRandom(2) })
const keepAlive = setInterval(() => {}, 1000)
const opts = { maxKeys: 100, profile: 'local' }
const a = await Bcache.create({ ...opts, nodeId: 'a', peers: [] }, { transport: net.bind() })
const b = await Bcache.create({ ...opts, nodeId: 'b', peers: [a.address] }, { transport: net.bind() })
const c = await Bcache.create({ ...opts, nodeId: 'c', peers: [a.address] }, { transport: net.bind() })
const caches = [a, b, c].map((node) => createCache({ stores: [new Keyv({ store: new KeyvBcache(node) })] }))
await caches[0].set('user:1', { name: 'ada' })
const deadline = Date.now() + 10_000
let seen
while (Date.now() < deadline && (seen = await caches[2].get('user:1')) === undefined) await new Promise((r) => setTimeout(r, 5))
let loads = 0
const loader = async () => { loads++; await new Promise((r) => setTimeout(r, 50)); return 'loaded' }
const kv = [a, b, c].map((node) => new Keyv({ store: new KeyvBcache(node) }))
const wrapped = await Promise.all(kv.map((k) => bcacheWrap(k, 'lazy', loader)))
const registry = new client.Registry()
registerBcacheMetrics(a, registry, { client })
const text = await registry.metrics()
registerBcacheOtelMetrics(a, metrics.getMeter('app'))
await Promise.all([a.close(), b.close(), c.close()])
clearInterval(keepAlive)
console.log(JSON.stringify({ seen, wrapped, loads, scraped: text.includes('bcache_') }))
`

const CJS_SCRIPT = `
try {
  const { Bcache, BcacheError } = require('bcache')
  console.log(JSON.stringify({ ok: typeof Bcache === 'function' && typeof BcacheError === 'function' }))
} catch (err) {
  console.log(JSON.stringify({ ok: false, code: err.code }))
}
`

describe('the npm package (npm pack, install into a fresh app)', function () {
  this.timeout(60_000)
  let dir = ''
  let files: string[] = []
  let app = ''

  before(async function () {
    dir = await mkdtemp(join(tmpdir(), 'bcache-pack-'))
    let packed: Array<{ filename: string; files: Array<{ path: string }> }>
    try {
      const { stdout } = await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', dir], root)
      packed = JSON.parse(stdout)
    } catch (err) {
      console.log(`      skipped: npm pack failed (${String(err).split('\n')[0]})`)
      this.skip()
    }
    files = packed[0]!.files.map((f) => f.path)
    const tarball = join(dir, packed[0]!.filename)
    app = join(dir, 'app')
    await run('mkdir', [app])
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }))
    const install = ['install', '--no-audit', '--no-fund', '--ignore-scripts', tarball, ...INTEGRATIONS]
    try {
      await npm([...install, '--offline'], app)
    } catch {
      try {
        await npm(install, app) // the npm cache lacks a dependency: the registry
      } catch (err) {
        if (!NETWORK_ERRORS.test(String((err as { stderr?: string }).stderr ?? err))) throw err
        console.log('      skipped: the dependencies are neither in the npm cache nor reachable on a registry')
        this.skip()
      }
    }
  })

  after(async () => {
    if (process.env.BCACHE_KEEP_PACK !== undefined) return
    if (dir !== '') await rm(dir, { recursive: true, force: true })
  })

  it('ships the library, its types, the bench CLI, the license and the docs; not specs, chaos tools or source maps', () => {
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts',
      'dist/lib/membership-entry.js', 'dist/lib/testing.d.ts', 'dist/tools/bcache-bench.js']) expect(files, f).to.include(f)
    expect(files.filter((f) => f.startsWith('dist/spec/') || f.startsWith('dist/benchmarks/') || f.startsWith('spec/'))).to.deep.equal([])
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts'))).to.deep.equal([])
    expect(files.filter((f) => /dist\/tools\/(chaos|member-node)/.test(f))).to.deep.equal([])
  })

  it('every relative link of the README points at a shipped file', async () => {
    const readme = await readFile(join(root, 'README.md'), 'utf8')
    const links = [...readme.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l))
    expect(links).to.not.be.empty
    for (const l of links) expect(files, `README links ${l}`).to.include(l.replace(/^\.\//, ''))
  })

  it('imports every subpath from ESM and runs a 2-node cluster on the memory network', async () => {
    await writeFile(join(app, 'check.mjs'), ESM_SCRIPT)
    const { stdout } = await run(process.execPath, ['check.mjs'], { cwd: app, timeout: 30_000 })
    const out = JSON.parse(stdout)
    expect(out.value).to.deep.equal({ v: 1 })
    expect(out.members).to.equal(2)
    expect(out.main).to.include.members(['Bcache', 'BcacheError', 'FillError', 'InvalidStateError', 'silentLogger'])
    expect(out.main).to.not.include.members(['Membership', 'MemoryNetwork', 'ManualClock', 'TransmitQueue', 'FaultTransport', 'UdpTcpTransport'])
    expect(out.membership).to.include.members(['Membership', 'startMembership', 'defaultNodeId', 'profiles', 'resolveTuning', 'TransmitQueue'])
    expect(out.testing).to.include.members(['MemoryNetwork', 'MemoryTransport', 'FaultTransport', 'ManualClock', 'seededRandom'])
  })

  it('runs a 3-node cluster through Keyv and cache-manager, single-fills with bcacheWrap, and scrapes metrics', async () => {
    await writeFile(join(app, 'integrations.mjs'), INTEGRATION_SCRIPT)
    const { stdout } = await run('node', ['integrations.mjs'], { cwd: app, env: cleanEnv(), timeout: 40_000 })
    const out = JSON.parse(stdout.trim().split('\n').pop()!)
    expect(out.seen).to.deep.equal({ name: 'ada' })
    expect(out.wrapped).to.deep.equal(['loaded', 'loaded', 'loaded'])
    expect(out.loads).to.equal(1)
    expect(out.scraped).to.equal(true)
  })

  it('require("bcache") works where Node has require(esm) (≥ 20.19), else fails with ERR_REQUIRE_ESM', async () => {
    await writeFile(join(app, 'check.cjs'), CJS_SCRIPT)
    const { stdout } = await run(process.execPath, ['check.cjs'], { cwd: app, timeout: 30_000 })
    const out = JSON.parse(stdout)
    const hasRequireEsm = (process.features as { require_module?: boolean }).require_module === true
    expect(out).to.deep.equal(hasRequireEsm ? { ok: true } : { ok: false, code: 'ERR_REQUIRE_ESM' })
  })

  it('the bench CLI starts from the installed package (every module it loads is shipped)', async () => {
    const { stdout } = await run(join(app, 'node_modules', '.bin', 'bcache-bench'), ['--help'], { cwd: app, timeout: 30_000 })
    expect(stdout).to.match(/^usage: bcache-bench/)
  })
})
