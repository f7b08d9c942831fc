/**
 * Cargo's registry web API, mapped onto the same pipeline: publish
 * (`cargo publish`), yank (a yank notice; an unyank is refused, since
 * notices are permanent), search (`cargo search`), owners (`cargo owner
 * --list`: the crate's namespace owners; changing them is a change to the
 * namespace file, refused here), downloads, and the sparse index's
 * `config.json`. The rest of `/api/v1/crates/` and `/cargo/` is the
 * generated index.
 */
import { WharfError } from '../../core/errors.js'
import { namespacePath } from '../../core/layout.js'
import { cratePackageId } from '../../core/names.js'
import type { NamespaceFile } from '../../core/types.js'
import { MAIN, readJsonAt } from '../../git/index.js'
import { crashPoint } from '../../publish/index.js'
import { sendArtifact } from '../artifacts.js'
import { intParam, readBody, sendJson, tooLarge } from '../http.js'
import { parseCargoPublish } from '../requests.js'
import type { Registry } from '../registry.js'
import type { Route } from '../router.js'

/** Why `cargo owner --add/--remove` is refused: a crate's owners are its namespace's, kept in the index. */
function ownersChange(registry: Registry, crate: string): WharfError {
  const pkg = registry.catalog.crate(crate)
  const file = pkg ? namespacePath(pkg.name.slice(0, pkg.name.indexOf(':'))) : 'index/namespaces/<namespace>.json'
  return new WharfError('FORBIDDEN', `the owners of crate ${crate} are the owners of its namespace, listed in ${file}; they are not changed through Cargo`, {
    hint: `propose the change to ${file} as a pull request to the index, signed off by a current owner`,
  })
}

export function cargoRoutes(registry: Registry, maxUploadBytes: number): Route[] {
  return [
    {
      method: 'PUT',
      pattern: '/api/v1/crates/new',
      envelope: 'cargo',
      async handler({ req, res }) {
        const who = registry.auth.require(req.headers.authorization)
        const body = await readBody(req, maxUploadBytes + 1024 * 1024, maxUploadBytes)
        const { metadata, crate } = parseCargoPublish(body)
        if (crate.length > maxUploadBytes) throw tooLarge(maxUploadBytes)
        await registry.publishCrate(who, metadata, crate)
        crashPoint('answer')
        sendJson(res, 200, { warnings: { invalid_categories: [], invalid_badges: [], other: [] } })
      },
    },
    {
      // `cargo search`: what crates.io answers (name, max_version, description; meta.total), over the crate packages.
      method: 'GET',
      pattern: '/api/v1/crates',
      envelope: 'cargo',
      async handler({ res, query }) {
        const perPage = Math.max(1, intParam(query, 'per_page', 10, 100))
        const page = Math.max(1, intParam(query, 'page', 1, 1_000_000))
        const result = registry.catalog.search(query.get('q') ?? '', perPage, (page - 1) * perPage, true)
        const crates = result.hits.map(({ latest }) => ({ name: latest.record.crate!.name, max_version: latest.record.version, description: latest.record.description }))
        sendJson(res, 200, { crates, meta: { total: result.total } })
      },
    },
    {
      // `cargo owner --list`: the owners of the namespace that holds the crate, as crates.io lists users and teams.
      method: 'GET',
      pattern: '/api/v1/crates/:crate/owners',
      envelope: 'cargo',
      async handler({ res, params }) {
        const pkg = registry.catalog.crate(params.crate!)
        if (!pkg) throw new WharfError('NOT_FOUND', `no crate "${params.crate}" here`)
        const ns = pkg.name.slice(0, pkg.name.indexOf(':'))
        const file = await readJsonAt<NamespaceFile>(registry.repo, MAIN, namespacePath(ns))
        const users = (file?.owners ?? []).map((o) =>
          'team' in o
            ? { id: 0, login: `github:${o.team.slice(1).replace('/', ':')}`, name: o.team, kind: 'team' }
            : { id: o.id ?? 0, login: o.login, name: null, kind: 'user' },
        )
        sendJson(res, 200, { users })
      },
    },
    // `cargo owner --add` and `--remove`.
    ...(['PUT', 'DELETE'] as const).map(
      (method): Route => ({
        method,
        pattern: '/api/v1/crates/:crate/owners',
        envelope: 'cargo',
        async handler({ req, params }) {
          registry.auth.require(req.headers.authorization)
          throw ownersChange(registry, params.crate!)
        },
      }),
    ),
    {
      method: 'GET',
      pattern: '/api/v1/crates/:crate/:version/download',
      envelope: 'cargo',
      async handler({ req, res, params }) {
        const crateName = params.crate!
        const pkg = registry.catalog.crate(crateName)
        if (!pkg) throw new WharfError('NOT_FOUND', `no crate "${crateName}" here`)
        await sendArtifact(registry, req, res, { name: pkg.name, version: params.version! })
      },
    },
    {
      method: 'DELETE',
      pattern: '/api/v1/crates/:crate/:version/yank',
      envelope: 'cargo',
      async handler({ req, res, params }) {
        const who = registry.auth.require(req.headers.authorization)
        const crateName = params.crate!
        const name = registry.catalog.crate(crateName)?.name ?? cratePackageId(await registry.cratesNamespace(), crateName)
        await registry.yank(who, name, params.version!, 'yanked with cargo yank')
        sendJson(res, 200, { ok: true })
      },
    },
    {
      method: 'PUT',
      pattern: '/api/v1/crates/:crate/:version/unyank',
      envelope: 'cargo',
      async handler({ req, params }) {
        registry.auth.require(req.headers.authorization)
        throw new WharfError('CONFLICT', `${params.crate}@${params.version} stays yanked: a yank notice is part of the append-only index and cannot be withdrawn`, {
          hint: 'publish a new version instead',
        })
      },
    },
    {
      method: 'GET',
      pattern: '/cargo/config.json',
      envelope: 'cargo',
      async handler({ req, res, pathname }) {
        // The generated file, byte for byte as the signed snapshot lists it (its `api` and `dl` name this registry,
        // which built it); before the first build, where Cargo publishes and downloads here.
        if (await registry.statics.serve(req, res, pathname)) return
        sendJson(res, 200, { dl: `${registry.baseUrl}/api/v1/crates`, api: registry.baseUrl })
      },
    },
  ]
}
