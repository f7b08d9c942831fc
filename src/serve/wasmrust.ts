/**
 * The WasmRust registry's REST routes over the same index and pipeline:
 * `/crates` (a delete is a yank: versions are immutable), `/tests/{id}` (a
 * queued `wharf test` run and its report), `/registry`, `/registry/sync`.
 * Answers keep that API's envelope: {status, data, error, pagination}.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { primaryArtifact } from '../api/documents.js'
import { WharfError } from '../core/errors.js'
import { artifactPath, writeFileAtomic } from '../store/index.js'
import type { PackageEntry } from './catalog.js'
import { decodeSegment, fieldError, readJson, sendJson } from './http.js'
import type { CargoPublishMetadata } from './records.js'
import type { Registry } from './registry.js'

const WHARF_BIN = fileURLToPath(new URL('../../bin/wharf.js', import.meta.url))
const JSON_LIMIT = 1024 * 1024

export function envelope(data: unknown, pagination?: object): object {
  return { status: 'success', data, error: null, ...(pagination ? { pagination } : { pagination: null }) }
}

function crateView(registry: Registry, pkg: PackageEntry): object {
  const versions = registry.catalog.versionsOf(pkg.name)
  const latest = registry.catalog.latest(pkg.name)!.record
  return {
    id: pkg.name,
    name: latest.crate?.name ?? pkg.name,
    package: pkg.name,
    kind: pkg.kind,
    version: latest.version,
    description: latest.description,
    license: latest.license ?? null,
    repository: latest.repository ?? null,
    status: versions.every((v) => v.yank) ? 'yanked' : 'published',
    versions: versions.map((v) => ({ version: v.record.version, yanked: Boolean(v.yank), published_at: v.record.published_at, cksum: v.record.crate?.cksum ?? v.record.artifacts[0]!.sha256 })),
    created_at: versions[versions.length - 1]!.record.published_at,
    updated_at: versions[0]!.record.published_at,
    download_count: registry.downloads.of(pkg.name),
  }
}

/** A crate by its crate name or its package id (`crates:serde`). */
function findCrate(registry: Registry, id: string): PackageEntry {
  const pkg = id.includes(':') ? registry.catalog.packages.get(id) : registry.catalog.crate(id)
  if (!pkg) throw new WharfError('NOT_FOUND', `no crate "${id}" in this registry`, { hint: 'GET /crates lists them' })
  return pkg
}

function crateBody(body: unknown, nameFromPath?: string): { metadata: CargoPublishMetadata; crate: Buffer } {
  const b = body as Record<string, unknown> | null
  if (!b || typeof b !== 'object') throw fieldError('INVALID_INPUT', 'body', 'the body must be a JSON object')
  const name = nameFromPath ?? b.name
  if (nameFromPath && b.name !== undefined && b.name !== nameFromPath) throw fieldError('INVALID_INPUT', 'name', `the body names "${String(b.name)}", the path "${nameFromPath}"`)
  const version = b.version ?? b.vers
  if (typeof b.crate !== 'string' || b.crate === '') {
    throw fieldError('INVALID_INPUT', 'crate', 'field "crate" (the .crate file, base64) is missing', 'make it with `cargo package` and send it base64-encoded')
  }
  const crate = Buffer.from(b.crate, 'base64')
  return { metadata: { ...(b as object), name, vers: version, deps: (b.deps as CargoPublishMetadata['deps']) ?? [] } as CargoPublishMetadata, crate }
}

interface TestJob {
  id: string
  package: string
  version: string
  status: 'queued' | 'running' | 'passed' | 'failed' | 'error'
  queued_at: string
  finished_at?: string
  exit_code?: number
  report?: unknown
  error?: string
}

export function createWasmRustRoutes(registry: Registry, maxUploadBytes: number) {
  const jobFile = (id: string) => path.join(registry.layout.tests, `${encodeURIComponent(id)}.json`)
  let testQueue: Promise<void> = Promise.resolve()

  const run = (command: string, args: string[], timeout: number) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(command, args, { maxBuffer: 16 * 1024 * 1024, timeout }, (error, stdout, stderr) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
      )
    })

  /** `wharf test` on the artifact; a .crate is unpacked first, since the matrix builds crates from their source. */
  const runTest = (job: TestJob, artifact: string, isCrate: boolean) => {
    testQueue = testQueue.then(async () => {
      await writeFileAtomic(jobFile(job.id), JSON.stringify({ ...job, status: 'running' }))
      let target = artifact
      let scratch: string | undefined
      let result: { code: number; stdout: string; stderr: string }
      if (isCrate) {
        scratch = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-test-crate-'))
        const unpacked = await run('tar', ['-xzf', artifact, '-C', scratch], 60_000)
        const dirs = unpacked.code === 0 ? await fs.promises.readdir(scratch) : []
        if (dirs.length === 1) target = path.join(scratch, dirs[0]!)
        result = dirs.length === 1 ? await run(process.execPath, [WHARF_BIN, 'test', target, '--json'], 30 * 60_000) : { code: 2, stdout: '', stderr: `the .crate does not unpack to one directory: ${unpacked.stderr.trim().split('\n').join('; ') || 'it is empty'}` }
      } else {
        result = await run(process.execPath, [WHARF_BIN, 'test', target, '--json'], 30 * 60_000)
      }
      if (scratch) await fs.promises.rm(scratch, { recursive: true, force: true })
      let report: unknown
      try {
        report = JSON.parse(result.stdout)
      } catch {
        report = undefined
      }
      const done: TestJob = {
        ...job,
        status: result.code === 0 ? 'passed' : result.code === 1 ? 'failed' : 'error',
        finished_at: new Date().toISOString(),
        exit_code: result.code,
        ...(report !== undefined ? { report } : {}),
        ...(result.code > 1 ? { error: result.stderr.trim().split('\n').pop() ?? 'wharf test could not run' } : {}),
      }
      await writeFileAtomic(jobFile(job.id), JSON.stringify(done))
    })
  }

  /** Answers the request when it is a WasmRust route; false otherwise. */
  return async function handle(req: IncomingMessage, res: ServerResponse, pathname: string, query: URLSearchParams): Promise<boolean> {
    const method = req.method ?? 'GET'
    const parts = pathname.split('/').slice(1).map(decodeSegment)
    const admin = () => {
      const who = registry.auth.require(req.headers.authorization)
      if (who.namespace !== '*') throw new WharfError('FORBIDDEN', 'WasmRust writes need the admin token', { hint: 'use REGISTRY_ADMIN_TOKEN' })
      return who
    }
    if (parts[0] === 'crates' && parts.length === 1) {
      if (method === 'GET') {
        const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1)
        const pageSize = Math.min(100, Math.max(1, Number.parseInt(query.get('page_size') ?? '20', 10) || 20))
        const all = registry.catalog.search(query.get('search') ?? '', Number.MAX_SAFE_INTEGER, 0).hits.filter(({ pkg }) => pkg.kind === 'crate')
        const status = query.get('status')
        const views = all.map(({ pkg }) => crateView(registry, pkg) as { status: string }).filter((v) => !status || v.status === status)
        sendJson(res, 200, envelope(views.slice((page - 1) * pageSize, page * pageSize), { page, page_size: pageSize, total: views.length, total_pages: Math.ceil(views.length / pageSize) }))
        return true
      }
      if (method === 'POST') {
        const who = admin()
        const { metadata, crate } = crateBody(await readJson(req, maxUploadBytes * 2))
        const record = await registry.publishCrate(who, metadata, crate)
        sendJson(res, 201, envelope(crateView(registry, registry.catalog.packages.get(record.name)!)))
        return true
      }
      throw new WharfError('METHOD_NOT_ALLOWED', `${method} /crates is not a route`, { hint: 'GET or POST /crates' })
    }
    if (parts[0] === 'crates' && parts.length === 2) {
      const id = parts[1]!
      if (method === 'GET') {
        sendJson(res, 200, envelope(crateView(registry, findCrate(registry, id))))
        return true
      }
      if (method === 'PUT') {
        const who = admin()
        const { metadata, crate } = crateBody(await readJson(req, maxUploadBytes * 2), id.includes(':') ? undefined : id)
        const record = await registry.publishCrate(who, metadata, crate)
        sendJson(res, 200, envelope(crateView(registry, registry.catalog.packages.get(record.name)!)))
        return true
      }
      if (method === 'DELETE') {
        const who = admin()
        const pkg = findCrate(registry, id)
        const only = query.get('version')
        const versions = registry.catalog.versionsOf(pkg.name).filter((v) => !v.yank && (!only || v.record.version === only))
        if (only && !registry.catalog.get(pkg.name, only)) throw fieldError('NOT_FOUND', 'version', `${pkg.name}@${only} is not published`)
        for (const v of versions) await registry.yank(who, pkg.name, v.record.version, query.get('reason') ?? 'deleted through the WasmRust API')
        sendJson(res, 200, envelope(crateView(registry, pkg)))
        return true
      }
      throw new WharfError('METHOD_NOT_ALLOWED', `${method} /crates/{id} is not a route`, { hint: 'GET, PUT or DELETE /crates/{id}' })
    }
    if (parts[0] === 'tests' && parts.length === 2) {
      const id = parts[1]!
      if (method === 'POST') {
        admin()
        const pkg = findCrate(registry, id)
        const latest = registry.catalog.latest(pkg.name)!.record
        const job: TestJob = { id, package: pkg.name, version: latest.version, status: 'queued', queued_at: new Date().toISOString() }
        await writeFileAtomic(jobFile(id), JSON.stringify(job))
        const artifact = primaryArtifact(latest)
        runTest(job, artifactPath(registry.repo.dir, artifact.sha256), artifact.name.endsWith('.crate'))
        sendJson(res, 202, envelope(job))
        return true
      }
      if (method === 'GET') {
        let job: TestJob
        try {
          job = JSON.parse(await fs.promises.readFile(jobFile(id), 'utf8')) as TestJob
        } catch {
          throw new WharfError('NOT_FOUND', `no test run for "${id}"`, { hint: `start one with POST /tests/${id}` })
        }
        sendJson(res, 200, envelope(job))
        return true
      }
      throw new WharfError('METHOD_NOT_ALLOWED', `${method} /tests/{id} is not a route`, { hint: 'POST or GET /tests/{id}' })
    }
    if (parts[0] === 'registry' && parts.length === 1) {
      if (method === 'GET') {
        const file = await registry.registryFile()
        const { packages, versions } = registry.catalog.counts()
        sendJson(res, 200, envelope({ ...file, url: registry.baseUrl, package_count: packages, version_count: versions }))
        return true
      }
      if (method === 'PUT') {
        const who = admin()
        const body = (await readJson(req, JSON_LIMIT)) as Record<string, unknown>
        if (!body || typeof body !== 'object') throw fieldError('INVALID_INPUT', 'body', 'the body must be a JSON object')
        const allowed = ['name', 'description', 'peers', 'policy']
        // What GET /registry answers may be sent back as is; fields that cannot change here must then be unchanged.
        const current = (await registry.registryFile()) as unknown as Record<string, unknown>
        const fixed = ['schema', 'maintainers', 'keys']
        const derived = ['url', 'package_count', 'version_count']
        const refused = Object.keys(body).find(
          (k) => !allowed.includes(k) && !derived.includes(k) && !(fixed.includes(k) && JSON.stringify(body[k]) === JSON.stringify(current[k])),
        )
        if (refused) throw fieldError('INVALID_INPUT', refused, `field "${refused}" cannot be changed through /registry`, `change ${allowed.join(', ')}; maintainers and keys change by a reviewed commit`)
        const change = Object.fromEntries(allowed.filter((k) => k in body).map((k) => [k, body[k]]))
        sendJson(res, 200, envelope(await registry.updateRegistry(who, change)))
        return true
      }
      throw new WharfError('METHOD_NOT_ALLOWED', `${method} /registry is not a route`, { hint: 'GET or PUT /registry' })
    }
    if (parts[0] === 'registry' && parts[1] === 'sync' && parts.length === 2) {
      if (method !== 'POST') throw new WharfError('METHOD_NOT_ALLOWED', `${method} /registry/sync is not a route`, { hint: 'POST /registry/sync' })
      admin()
      // Federation (peers and delegated namespaces) is not in this version: say so rather than pretend a sync ran.
      throw new WharfError('NOT_IMPLEMENTED', 'registry sync is not available in this version', { hint: 'this registry has no federation peers to sync from yet' })
    }
    return false
  }
}
