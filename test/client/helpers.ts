/**
 * Registries for the install tests: a real index with a small dependency
 * graph, built by build-api (from main, or from a branch holding a deliberate
 * fault committed past the gate, as a compromised registry would), copied
 * and served by nginx; a redirecting artifact host on loopback.
 */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { buildApi } from '../../src/api/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { PAYLOAD_TYPES, signDocument } from '../../src/core/dsse.js'
import { sha256Hex } from '../../src/core/hash.js'
import { parsePrivateKey, type GeneratedKey } from '../../src/core/keys.js'
import { recordPath, REGISTRY_KEY_PATH, yankPath } from '../../src/core/layout.js'
import { leafDigitsOf, leafOf, nodePath, parentLength, renderLeaf, renderPart, SNAPSHOT_PATH, type Snapshot } from '../../src/api/snapshot.js'
import type { Dependency, VersionRecord, YankNotice } from '../../src/core/types.js'
import { MAIN, resolveCommit, setBranch, writeCommitWith, type FileWrite } from '../../src/git/index.js'
import { mergeProposal } from '../../src/publish/index.js'
import { putArtifact } from '../../src/store/index.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'

export interface GraphIndex {
  idx: TestIndex
  /** The artifact bytes of each `name@version`. */
  bytes: Map<string, Buffer>
}

const published = (now: Date) => now.toISOString().replace(/\.\d{3}Z$/, 'Z')

/**
 * acme:app@1.0.0 -> acme:lib@^1.0 -> acme:base@^0.1, with acme:lib 1.0.0,
 * 1.1.0, 1.2.0 (yanked) and 2.0.0, acme:base 0.1.0, and acme:calc 1.0.0.
 */
export async function createGraphIndex(): Promise<GraphIndex> {
  const idx = await createTestIndex()
  const bytes = new Map<string, Buffer>()
  const release = async (name: string, version: string, dependencies: Dependency[] = [], description = `the ${name} package`) => {
    const b = component(`${name}@${version}`)
    bytes.set(`${name}@${version}`, b)
    await idx.release({ name, version, bytes: b, dependencies, description })
  }
  await release('acme:base', '0.1.0')
  await release('acme:lib', '1.0.0', [{ name: 'acme:base', req: '^0.1.0', optional: false }])
  await release('acme:lib', '1.1.0', [{ name: 'acme:base', req: '^0.1.0', optional: false }])
  await release('acme:lib', '1.2.0', [{ name: 'acme:base', req: '^0.1.0', optional: false }])
  await release('acme:lib', '2.0.0')
  await release('acme:app', '1.0.0', [{ name: 'acme:lib', req: '^1.0.0', optional: false }], 'an application')
  await release('acme:calc', '1.0.0', [], 'a calculator')
  await yank(idx, 'acme:lib', '1.2.0')
  return { idx, bytes }
}

/** Merges a signed yank notice through the gate. */
export async function yank(idx: TestIndex, name: string, version: string): Promise<void> {
  const notice = signDocument(
    { schema: 'wharf:yank/v1' as const, name, version, reason: 'broken', yanked_at: published(new Date()), publisher: { login: 'alice' } },
    PAYLOAD_TYPES.yank,
    parsePrivateKey(idx.key.privatePem),
  ) as YankNotice
  const branch = `yank/${name.replace(":", "/")}/${version}`
  await idx.submit([{ path: yankPath(name, version), content: stableJson(notice) }], 'alice', branch)
  const merged = await mergeProposal(idx.repo, { branch, author: { login: 'alice' } })
  if (!merged.merged) throw new Error(`yank refused: ${JSON.stringify(merged.check.findings)}`)
}

/** A record signed by `key` (alice's unless given), its artifact in the store unless `url` points elsewhere. */
export async function signedRecord(
  idx: TestIndex,
  options: { name: string; version: string; bytes: Buffer; dependencies?: Dependency[]; url?: string; key?: GeneratedKey; description?: string },
): Promise<VersionRecord> {
  const stored = await putArtifact(idx.dir, options.bytes)
  const unsigned = {
    schema: 'wharf:record/v1' as const,
    name: options.name,
    version: options.version,
    kind: 'component' as const,
    description: options.description ?? `the ${options.name} package`,
    license: 'MIT',
    dependencies: options.dependencies ?? [],
    targets: ['wasm32-wasip2'],
    artifacts: [{ name: `${options.name.split(/[:/]/).pop()}.wasm`, target: 'wasm32-wasip2', url: options.url ?? stored.url, sha256: stored.sha256, size: stored.size }],
    published_at: published(new Date()),
    publisher: { login: 'alice' },
  }
  return signDocument(unsigned, PAYLOAD_TYPES.record, parsePrivateKey((options.key ?? idx.key).privatePem)) as VersionRecord
}

/** Commits `files` straight onto a new branch off main, past the gate, as a compromised registry would. */
export async function commitPastGate(idx: TestIndex, branch: string, files: FileWrite[]): Promise<void> {
  const head = await writeCommitWith(idx.repo, { parents: [await resolveCommit(idx.repo, MAIN)], files, message: `Unchecked: ${branch}`, author: { login: 'mallory' } })
  await setBranch(idx.repo, branch, head)
}

export const recordFile = (record: VersionRecord): FileWrite => ({ path: recordPath(record.name, record.version), content: stableJson(record) })

/** Builds the API of `ref` into a new directory and returns the real directory (not the `out` symlink). */
export async function buildTo(idx: TestIndex, options: { ref?: string; now?: Date; baseUrl?: string } = {}): Promise<string> {
  const out = path.join(await tempDir('wharf-client-api-'), 'public')
  await buildApi({ repo: idx.repo, out, baseUrl: options.baseUrl ?? 'http://registry.invalid', ...(options.ref ? { ref: options.ref } : {}), ...(options.now ? { now: options.now } : {}) })
  return fs.promises.realpath(out)
}

/**
 * Replaces `file` of a built output (a file the snapshot lists, or one of its
 * parts) with `bytes` and signs the snapshot over them again with the index's
 * registry key: a broken document as only the
 * registry itself can serve it, which every digest and signature accepts.
 */
export function replaceSigned(idx: TestIndex, out: string, file: string, bytes: string | Buffer): void {
  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(out, name), 'utf8')) as Record<string, unknown>
  const write = (name: string, text: string | Buffer) => {
    fs.writeFileSync(path.join(out, name), text)
    return sha256Hex(text)
  }
  let digest = write(file, bytes)
  const { signature: _, ...snapshot } = read(SNAPSHOT_PATH) as unknown as Snapshot
  const part = /^snapshot\/([0-9a-f]{2})\.json$/.exec(file)
  if (part) snapshot.parts[part[1]!] = digest
  else if (snapshot.files && Object.hasOwn(snapshot.files, file)) snapshot.files[file] = digest
  else {
    const digits = leafDigitsOf(snapshot)
    let name = leafOf(file, digits)
    const leaf = read(nodePath(name)).files as Record<string, string>
    if (!Object.hasOwn(leaf, file)) throw new Error(`${file} is not in the snapshot of ${out}`)
    digest = write(nodePath(name), renderLeaf(name, new Map(Object.entries({ ...leaf, [file]: digest }))))
    for (let up = parentLength(name.length, digits); up > 0; name = name.slice(0, up), up = parentLength(up, digits)) {
      const children = read(nodePath(name.slice(0, up))).leaves as Record<string, string>
      digest = write(nodePath(name.slice(0, up)), renderPart(name.slice(0, up), new Map(Object.entries({ ...children, [name.slice(up)]: digest }))))
    }
    snapshot.parts[name] = digest
  }
  const key = parsePrivateKey(fs.readFileSync(path.join(idx.dir, REGISTRY_KEY_PATH), 'utf8'))
  write(SNAPSHOT_PATH, stableJson(signDocument(snapshot, PAYLOAD_TYPES.snapshot, key)))
}

/** A plain copy of a built output (what a mirror holds). */
export async function copyTree(from: string): Promise<string> {
  const to = path.join(await tempDir('wharf-client-mirror-'), 'public')
  await fs.promises.cp(from, to, { recursive: true, dereference: true })
  return to
}

/** Every file under `dir`, relative, for "nothing was written" assertions. */
export async function listFiles(dir: string): Promise<string[]> {
  try {
    const entries = await fs.promises.readdir(dir, { recursive: true, withFileTypes: true })
    return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort()
  } catch {
    return []
  }
}

export interface Redirector {
  url: string
  /** The URL whose answer is a 302 to where `bytes` are served. */
  add(name: string, bytes: Buffer): string
  requests: string[]
  close(): Promise<void>
}

/** A release-asset host: `/releases/<name>` answers 302 to `/objects/<sha256>`, which serves the bytes. */
export async function startRedirector(): Promise<Redirector> {
  const objects = new Map<string, Buffer>()
  const names = new Map<string, string>()
  const requests: string[] = []
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    const url = req.url ?? '/'
    const release = /^\/releases\/(.+)$/.exec(url)
    const object = /^\/objects\/([0-9a-f]{64})$/.exec(url)
    if (release && names.has(release[1]!)) {
      res.writeHead(302, { location: `/objects/${names.get(release[1]!)}` })
      return res.end()
    }
    if (object && objects.has(object[1]!)) {
      const body = objects.get(object[1]!)!
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length })
      return res.end(body)
    }
    res.writeHead(404)
    res.end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url,
    requests,
    add(name, bytes) {
      const sha = sha256Hex(bytes)
      objects.set(sha, bytes)
      names.set(name, sha)
      return `${url}/releases/${name}`
    },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
