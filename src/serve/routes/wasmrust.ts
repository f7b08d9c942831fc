/**
 * The WasmRust registry's REST routes over the same index and pipeline:
 * `/crates` (a delete is a yank: versions are immutable), `/tests/{id}` (a
 * queued `wharf test` run and its report), `/registry`, `/registry/sync`.
 * Answers keep that API's envelope: {status, data, error, pagination}.
 */
import { isWharfCode, statusFor, WharfError } from '../../core/errors.js'
import { parseTargets } from '../../matrix/index.js'
import type { PackageEntry } from '../catalog.js'
import { fieldError, readJson, sendJson } from '../http.js'
import type { CargoPublishMetadata } from '../requests.js'
import type { Registry } from '../registry.js'
import { claimPrefix, errorAnswer, type Route, type RouteRequest } from '../router.js'
import { createTestJobs } from '../wasmrust.js'

const JSON_LIMIT = 1024 * 1024

function envelope(data: unknown, pagination?: object): object {
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

/** `POST /registry/sync` options, from a JSON body `{peer?, allow_conflicts?}` or the query string. */
async function syncOptions({ req, query }: RouteRequest): Promise<{ peer?: string; allowConflicts?: boolean }> {
  const declared = Number(req.headers['content-length'] ?? 0)
  const body = (declared > 0 || req.headers['transfer-encoding'] ? await readJson(req, JSON_LIMIT) : {}) as Record<string, unknown> | null
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw fieldError('INVALID_INPUT', 'body', 'the body must be a JSON object', 'send {"peer": "NAME"} or nothing')
  const peer = body.peer ?? query.get('peer') ?? undefined
  if (peer !== undefined && typeof peer !== 'string') throw fieldError('INVALID_INPUT', 'peer', 'field "peer" must be a string (a peer name)')
  const allow = body.allow_conflicts ?? query.get('allow_conflicts') ?? false
  return { ...(peer !== undefined ? { peer } : {}), ...(allow === true || allow === 'true' ? { allowConflicts: true } : {}) }
}

export function wasmRustRoutes(registry: Registry, maxUploadBytes: number): Route[] {
  const tests = createTestJobs(registry)
  const admin = ({ req }: RouteRequest) => {
    const who = registry.auth.require(req.headers.authorization)
    if (who.namespace !== '*') throw new WharfError('FORBIDDEN', 'WasmRust writes need the admin token', { hint: 'use REGISTRY_ADMIN_TOKEN' })
    return who
  }
  return [
    {
      method: 'GET',
      pattern: '/crates',
      envelope: 'wasmrust',
      async handler({ res, query }) {
        const page = Math.max(1, Number.parseInt(query.get('page') ?? '1', 10) || 1)
        const pageSize = Math.min(100, Math.max(1, Number.parseInt(query.get('page_size') ?? '20', 10) || 20))
        const all = registry.catalog.search(query.get('search') ?? '', Number.MAX_SAFE_INTEGER, 0).hits.filter(({ pkg }) => pkg.kind === 'crate')
        const status = query.get('status')
        const views = all.map(({ pkg }) => crateView(registry, pkg) as { status: string }).filter((v) => !status || v.status === status)
        sendJson(res, 200, envelope(views.slice((page - 1) * pageSize, page * pageSize), { page, page_size: pageSize, total: views.length, total_pages: Math.ceil(views.length / pageSize) }))
      },
    },
    {
      method: 'POST',
      pattern: '/crates',
      envelope: 'wasmrust',
      async handler(request) {
        const who = admin(request)
        const { metadata, crate } = crateBody(await readJson(request.req, maxUploadBytes * 2))
        const record = await registry.publishCrate(who, metadata, crate)
        sendJson(request.res, 201, envelope(crateView(registry, registry.catalog.packages.get(record.name)!)))
      },
    },
    {
      method: 'GET',
      pattern: '/crates/:id',
      envelope: 'wasmrust',
      async handler({ res, params }) {
        sendJson(res, 200, envelope(crateView(registry, findCrate(registry, params.id!))))
      },
    },
    {
      method: 'PUT',
      pattern: '/crates/:id',
      envelope: 'wasmrust',
      async handler(request) {
        const who = admin(request)
        const id = request.params.id!
        const { metadata, crate } = crateBody(await readJson(request.req, maxUploadBytes * 2), id.includes(':') ? undefined : id)
        const record = await registry.publishCrate(who, metadata, crate)
        sendJson(request.res, 200, envelope(crateView(registry, registry.catalog.packages.get(record.name)!)))
      },
    },
    {
      method: 'DELETE',
      pattern: '/crates/:id',
      envelope: 'wasmrust',
      async handler(request) {
        const who = admin(request)
        const { query } = request
        const pkg = findCrate(registry, request.params.id!)
        const only = query.get('version')
        const versions = registry.catalog.versionsOf(pkg.name).filter((v) => !v.yank && (!only || v.record.version === only))
        if (only && !registry.catalog.get(pkg.name, only)) throw fieldError('NOT_FOUND', 'version', `${pkg.name}@${only} is not published`)
        for (const v of versions) await registry.yank(who, pkg.name, v.record.version, query.get('reason') ?? 'deleted through the WasmRust API')
        sendJson(request.res, 200, envelope(crateView(registry, pkg)))
      },
    },
    {
      method: 'POST',
      pattern: '/tests/:id',
      envelope: 'wasmrust',
      async handler(request) {
        admin(request)
        const pkg = findCrate(registry, request.params.id!)
        const list = request.query.get('targets')
        const targets = list === null ? undefined : parseTargets(list)
        sendJson(request.res, 202, envelope(await tests.start(request.params.id!, registry.catalog.latest(pkg.name)!.record, targets)))
      },
    },
    {
      method: 'GET',
      pattern: '/tests/:id',
      envelope: 'wasmrust',
      async handler({ res, params }) {
        sendJson(res, 200, envelope(await tests.read(params.id!)))
      },
    },
    {
      method: 'GET',
      pattern: '/registry',
      envelope: 'wasmrust',
      async handler({ res }) {
        const file = await registry.registryFile()
        const { packages, versions } = registry.catalog.counts()
        sendJson(res, 200, envelope({ ...file, url: registry.baseUrl, package_count: packages, version_count: versions }))
      },
    },
    {
      method: 'PUT',
      pattern: '/registry',
      envelope: 'wasmrust',
      async handler(request) {
        const who = admin(request)
        const body = (await readJson(request.req, JSON_LIMIT)) as Record<string, unknown>
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
        sendJson(request.res, 200, envelope(await registry.updateRegistry(who, change)))
      },
    },
    {
      method: 'POST',
      pattern: '/registry/sync',
      envelope: 'wasmrust',
      async handler(request) {
        admin(request)
        const options = await syncOptions(request)
        const result = await registry.sync(options)
        const failure = result.failed[0]
        if (failure) {
          const error = new WharfError(isWharfCode(failure.code) ? failure.code : 'REMOTE', `peer ${failure.peer}: ${failure.error}`, { hint: failure.hint ?? 'try again later' })
          // The other peers' imports are committed already: the answer carries them, as the CLI reports them beside the failure.
          return sendJson(request.res, statusFor(error), { ...errorAnswer('wasmrust', error), data: result })
        }
        if (result.conflicts.length > 0 && !options.allowConflicts) {
          // The versions here stay; the answer carries both signed records of each conflict.
          return sendJson(request.res, 409, { status: 'error', data: result, error: `${result.conflicts.length} conflict(s): the versions here stay; nothing was imported from the peer with a conflict`, code: 'CONFLICT', pagination: null })
        }
        sendJson(request.res, 200, envelope(result))
      },
    },
    // Whatever else is under these paths is still the WasmRust API's, and answers in its envelope.
    claimPrefix('/crates/*', 'wasmrust'),
    claimPrefix('/tests', 'wasmrust'),
    claimPrefix('/tests/*', 'wasmrust'),
    claimPrefix('/registry/*', 'wasmrust'),
  ]
}
