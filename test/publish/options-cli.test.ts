/**
 * `wharf publish` takes only the options its way of publishing uses: one that
 * would be ignored (a keyword the registry cannot record, a target a .crate
 * does not have, --index with --registry) is a usage error before anything is
 * read or sent. A record signed here for --registry keeps its keywords, as
 * the local and --github ways do.
 */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { recordPath } from '../../src/core/layout.js'
import type { VersionRecord } from '../../src/core/types.js'
import { MAIN, readJsonAt } from '../../src/git/index.js'
import { wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { serveTemp } from '../serve/helpers.js'

// Nothing listens on port 9: a publish that got as far as the network would fail differently.
const REGISTRY = ['--registry', 'http://127.0.0.1:9', '--token', 't']
const GITHUB = ['--github', 'alice/registry', '--from', 'alice/calc']
const COMPONENT = ['calc.wasm', '--name', 'acme:calc', '--version', '1.0.0']

let work: string

beforeAll(async () => {
  work = await tempDir('wharf-publish-options-')
})

describe('wharf publish refuses an option its way of publishing ignores', () => {
  it.each([
    ['--keyword with --registry and no --key', [...COMPONENT, ...REGISTRY, '--keyword', 'math'], 'publish --registry without --key does not take --keyword', 'sign the record here with --key FILE'],
    ['--author with --registry and no --key', [...COMPONENT, ...REGISTRY, '--author', 'bob'], 'publish --registry without --key does not take --author', 'sign the record here with --key FILE'],
    ['--index with --registry', [...COMPONENT, ...REGISTRY, '--index', '.'], 'publish --registry does not take --index', 'drop --index'],
    ['--from with --registry', [...COMPONENT, ...REGISTRY, '--from', 'alice/calc'], 'publish without --github does not take --from', 'drop --from'],
    ['--tag with --registry', [...COMPONENT, ...REGISTRY, '--tag', 'v1.0.0'], 'publish without --github does not take --tag', 'drop --tag'],
    ['--tag into a local index', [...COMPONENT, '--key', 'k', '--index', '.', '--tag', 'v1.0.0'], 'publish without --github does not take --tag', 'drop --tag'],
    ['--token into a local index', [...COMPONENT, '--key', 'k', '--index', '.', '--token', 't'], 'publish without --registry does not take --token', 'drop --token'],
    ['--token with --github', [...COMPONENT, ...GITHUB, '--key', 'k', '--token', 't'], 'publish without --registry does not take --token', '$GITHUB_TOKEN'],
    ['--index with --github', [...COMPONENT, ...GITHUB, '--key', 'k', '--index', '.'], 'publish --github does not take --index', 'drop --index'],
    ['--target with --crate', ['--crate', '.', '--key', 'k', '--index', '.', '--target', 'wasm32-wasip2'], 'publish --crate does not take --target', 'drop --target'],
    ['--target with --github --crate', ['--crate', '.', ...GITHUB, '--key', 'k', '--target', 'wasm32-wasip2'], 'publish --crate does not take --target', 'drop --target'],
  ])('%s: USAGE, exit 2', async (_what, args, message, hint) => {
    // A directory with neither calc.wasm, a key nor a Cargo.toml: reading any of them would be another error.
    const run = await wharf(['publish', ...args, '--json'], { cwd: work, env: { GITHUB_TOKEN: '', WHARF_TOKEN: '' } })
    expect(run.code, run.stderr).toBe(2)
    const error = JSON.parse(run.stderr) as { error: string; code: string; hint: string }
    expect(error.code).toBe('USAGE')
    expect(error.error).toContain(message)
    expect(error.hint).toContain(hint)
  })
})

describe('wharf publish --registry --key', () => {
  it('signs the keywords into the record, which the registry keeps and searches', async () => {
    const server = await serveTemp({ tokens: [{ namespace: 'cli', token: 'cli-token' }] })
    try {
      const file = path.join(await tempDir('wharf-publish-keywords-'), 'calc.wasm')
      fs.writeFileSync(file, component('keyword calc'))
      // A namespace the server has not made yet trusts the registry's key.
      const key = path.join(server.registry.repo.dir, '.wharf', 'registry.key')
      const registry = ['--registry', server.url, '--token', 'cli-token']
      const published = await wharf(['publish', file, '--name', 'cli:calc', '--version', '1.0.0', '--description', 'A calculator', '--key', key, '--author', 'cli', '--keyword', 'arithmetic', '--keyword', 'math', ...registry])
      expect(published.code, published.stderr).toBe(0)
      const record = await readJsonAt<VersionRecord>(server.registry.repo, MAIN, recordPath('cli:calc', '1.0.0'))
      expect(record).toMatchObject({ keywords: ['arithmetic', 'math'], publisher: { login: 'cli' } })
      const found = await wharf(['search', 'arithmetic', '--registry', server.url])
      expect(found.stdout).toMatch(/^cli:calc@1\.0\.0\s+A calculator$/m)
    } finally {
      await server.close()
    }
  }, 60_000)
})
