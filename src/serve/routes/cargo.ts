/**
 * Cargo's registry web API, mapped onto the same pipeline: publish
 * (`cargo publish`), yank (a yank notice; an unyank is refused, since
 * notices are permanent), downloads, and the sparse index's `config.json`.
 * The rest of `/api/v1/crates/` and `/cargo/` is the generated index.
 */
import { WharfError } from '../../core/errors.js'
import { cratePackageId } from '../../core/names.js'
import { crashPoint } from '../../publish/index.js'
import { sendArtifact } from '../artifacts.js'
import { readBody, sendJson, tooLarge } from '../http.js'
import { parseCargoPublish } from '../requests.js'
import type { Registry } from '../registry.js'
import type { Route } from '../router.js'

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
