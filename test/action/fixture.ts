/**
 * An index repo on the emulator, as a registry on GitHub has one: the
 * registry (maintainer `admin`), namespace `acme` owned by alice by login
 * and numeric id, the Action (action.yml and its committed bundle) and the
 * index workflows at the root; artifacts served over loopback http, as a
 * release's downloads would be.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { stableJson } from '../../src/core/canonical.js'
import { generateKey, parsePrivateKey, type GeneratedKey } from '../../src/core/keys.js'
import { recordPath, REGISTRY_KEY_PATH, REGISTRY_PATH } from '../../src/core/layout.js'
import { storedArtifact, versionRecord } from '../../src/core/records.js'
import type { Owner, RegistryFile } from '../../src/core/types.js'
import { MAIN, openRepo, readJsonAt, resolveCommit, setBranch, writeCommitWith } from '../../src/git/index.js'
import { initIndex, mergeProposal, proposeNamespace } from '../../src/publish/index.js'
import type { Emulator } from '../github/emulator/emulator.js'
import { component } from '../helpers/wasm.js'

export const REPO = 'wharf/index'
const ROOT = path.resolve(import.meta.dirname, '../..')

export interface IndexFixture {
  key: GeneratedKey
  /** The registry's private key (PKCS#8 PEM), which signs the API's snapshot. */
  registryKey: string
  /** The registry's base URL for artifacts (loopback http). */
  artifactBase: string
  /** A signed record file for acme:<name>@<version>, its artifact served. */
  record(version: string, name?: string, bytes?: Buffer): { path: string; content: string }
  /** A work tree cloned with `token`. */
  clone(token: string): Promise<string>
  close(): Promise<void>
}

export interface FixtureOptions {
  /** Owners of namespace acme (default alice by login and id). */
  owners?: (emu: Emulator) => Owner[]
  /** Changes to the registry's policy. */
  policy?: (registry: RegistryFile) => void
  /** Namespaces besides acme, with acme's owners and key. */
  namespaces?: string[]
  /** Files committed at the root besides the index (workflows, the Action). */
  files?: Record<string, string>
  /** Copy action.yml and dist/action into the repo (for uses: ./). */
  withAction?: boolean
}

export async function createIndexFixture(emu: Emulator, options: FixtureOptions = {}): Promise<IndexFixture> {
  for (const login of ['alice', 'mallory', 'admin']) if (!emu.account(login)) emu.createUser(login)
  if (!emu.account('wharf')) emu.createOrg('wharf')
  const artifacts = new Map<string, Buffer>()
  const server = http.createServer((req, res) => {
    const bytes = artifacts.get(req.url ?? '')
    res.writeHead(bytes ? 200 : 404, { 'content-type': 'application/octet-stream' }).end(bytes ?? '')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const artifactBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`

  const dir = path.join(await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-action-')), 'index')
  await initIndex({ dir, maintainer: 'admin' })
  const repo = openRepo(dir)
  const key = generateKey()
  const owners = options.owners?.(emu) ?? [{ login: 'alice', id: emu.requireAccount('alice').id }]
  for (const namespace of ['acme', ...(options.namespaces ?? [])]) {
    const claim = await proposeNamespace(repo, { namespace, owners, publicKey: key.publicPem, author: 'alice' })
    const merged = await mergeProposal(repo, { branch: claim.branch, author: { login: 'alice', id: emu.requireAccount('alice').id } })
    if (!merged.merged) throw new Error(`fixture: claim of ${namespace} refused: ${JSON.stringify(merged.check.findings)}`)
  }
  const registry = (await readJsonAt<RegistryFile>(repo, MAIN, REGISTRY_PATH))!
  registry.policy.urls.allow_http_loopback = true
  options.policy?.(registry)
  const files = [{ path: REGISTRY_PATH, content: stableJson(registry) }, ...Object.entries(options.files ?? {}).map(([p, content]) => ({ path: p, content }))]
  if (options.withAction) {
    files.push({ path: 'action.yml', content: fs.readFileSync(path.join(ROOT, 'action.yml'), 'utf8') })
    for (const file of fs.readdirSync(path.join(ROOT, 'dist/action'), { recursive: true, encoding: 'utf8' })) {
      const full = path.join(ROOT, 'dist/action', file)
      if (fs.statSync(full).isFile()) files.push({ path: `dist/action/${file}`, content: fs.readFileSync(full, 'utf8') })
    }
  }
  const head = await writeCommitWith(repo, { parents: [await resolveCommit(repo, MAIN)], files, message: 'Registry set-up', author: { login: 'admin' } })
  await setBranch(repo, MAIN, head)
  execFileSync('git', ['checkout', '-q', '-f', MAIN], { cwd: dir })
  await emu.createRepo(REPO, { from: dir, collaborators: { alice: 'write', mallory: 'write', admin: 'admin' } })

  return {
    key,
    registryKey: fs.readFileSync(path.join(dir, REGISTRY_KEY_PATH), 'utf8'),
    artifactBase,
    record(version, name = 'calc', bytes = component(`${name}-${version}`)) {
      const url = `/${name}-${version}.wasm`
      artifacts.set(url, bytes)
      const artifact = { ...storedArtifact(bytes, `${name}.wasm`, 'wasm32-wasip2'), url: `${artifactBase}${url}` }
      const record = versionRecord(
        { name: `acme:${name}`, version, kind: 'component', description: 'A calculator', license: 'MIT', artifact, publisher: 'alice', publishedAt: emu.now() },
        parsePrivateKey(key.privatePem),
      )
      return { path: recordPath(`acme:${name}`, version), content: stableJson(record) }
    },
    // Loaded when used: the test helpers load vitest, which a bench that builds this fixture runs without.
    clone: async (token) => (await import('../github/helpers.js')).clone(emu, REPO, token),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}

