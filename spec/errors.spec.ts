import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { expect } from 'chai'
import * as errors from '../lib/errors.js'
import * as main from '../lib/index.js'
import { nullDelegate } from '../lib/membership/delegate.js'
import { Keyring } from '../lib/transport/keyring.js'
import { Cluster } from './support/cluster.js'

const root = fileURLToPath(new URL('../../', import.meta.url)) // dist/spec → repo
type ErrorClass = new (message: string) => errors.BcacheError

/** Every error class lib/errors.ts exports, by name. */
const classes = Object.entries(errors).filter(([, v]) => typeof v === 'function') as Array<[string, ErrorClass]>

/** The README's errors table: code → class name. */
async function readmeTable(): Promise<Map<string, string>> {
  const readme = await readFile(`${root}README.md`, 'utf8')
  const section = readme.slice(readme.indexOf('\n## Errors'), readme.indexOf('\n## ', readme.indexOf('\n## Errors') + 1))
  return new Map([...section.matchAll(/^\| `(BCACHE_ERR_[A-Z_]+)` \| `(\w+)` \|/gm)].map((m) => [m[1]!, m[2]!]))
}

describe('errors', () => {
  it('every exported error class is a BcacheError with a stable code and its own name', () => {
    expect(classes.length).to.be.at.least(10)
    for (const [name, Cls] of classes) {
      const e = name === 'BcacheError' ? new errors.BcacheError('BCACHE_ERR_X', 'm') : new Cls('m')
      expect(e, name).to.be.instanceOf(Error).and.instanceOf(errors.BcacheError)
      expect(e.name, name).to.equal(name)
      expect(e.code, name).to.match(/^BCACHE_ERR_[A-Z_]+$/)
    }
  })

  it('the main entry exports every error class', () => {
    for (const [name, Cls] of classes) expect((main as Record<string, unknown>)[name], name).to.equal(Cls)
  })

  it("the README's table lists exactly the codes of lib/errors.ts, each with its class", async () => {
    const source = await readFile(`${root}lib/errors.ts`, 'utf8')
    const codes = [...source.matchAll(/super\('(BCACHE_ERR_[A-Z_]+)'/g)].map((m) => m[1]!)
    const byCode = new Map(classes.filter(([n]) => n !== 'BcacheError').map(([n, Cls]) => [new Cls('m').code, n]))
    expect([...byCode.keys()].sort()).to.deep.equal([...codes].sort())
    expect(await readmeTable()).to.deep.equal(byCode)
  })

  it('keyring.remove(primary) throws InvalidStateError (BCACHE_ERR_INVALID_STATE) and keeps the key', () => {
    const k1 = Buffer.alloc(32, 1)
    const ring = new Keyring([k1])
    expect(() => ring.remove(k1)).to.throw(errors.InvalidStateError, /primary/).with.property('code', 'BCACHE_ERR_INVALID_STATE')
    expect(ring.keys()).to.deep.equal([k1])
    expect(() => ring.remove(Buffer.alloc(31))).to.throw(RangeError, 'keyring.remove(key)') // bad argument: still RangeError
  })

  it('Membership.setDelegate() after start() throws InvalidStateError', async () => {
    const cluster = new Cluster(1)
    const node = cluster.add()
    expect(() => node.setDelegate(nullDelegate)).to.throw(errors.InvalidStateError, 'before start()').with.property('code', 'BCACHE_ERR_INVALID_STATE')
    await cluster.settle(node.shutdown())
  })
})
