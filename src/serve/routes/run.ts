/**
 * The Run 2.0 routes that need a server (DESIGN §6, §7): health, search,
 * stats, downloads and publish. Everything else a Run client reads is a
 * static file of the generated API.
 */
import { WharfError } from '../../core/errors.js'
import { crashPoint } from '../../publish/index.js'
import { sendArtifact } from '../artifacts.js'
import { checkDeclaredLength, intParam, sendJson } from '../http.js'
import { readMultipart } from '../multipart.js'
import { parseComponentForm } from '../requests.js'
import type { Registry } from '../registry.js'
import { noRoute, type Route } from '../router.js'
import { readPackageView } from '../views.js'

const DOWNLOAD_SUFFIX = '/artifact.wasm'

export function runRoutes(registry: Registry, maxUploadBytes: number): Route[] {
  const url = registry.baseUrl
  return [
    {
      method: 'GET',
      pattern: '/health',
      envelope: 'run',
      async handler({ req, res, pathname }) {
        // The generated document ({status, commit}), as the signed snapshot lists it; before the first build, the bare answer.
        if (await registry.statics.serve(req, res, pathname)) return
        sendJson(res, 200, { status: 'ok' })
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/search',
      envelope: 'run',
      async handler({ res, query }) {
        const limit = intParam(query, 'limit', 20, 100)
        const offset = intParam(query, 'offset', 0, Number.MAX_SAFE_INTEGER)
        const result = registry.catalog.search(query.get('q') ?? '', limit, offset)
        const packages = await Promise.all(result.hits.map(({ latest }) => readPackageView(registry.layout.public, latest.record, url, Boolean(latest.yank))))
        sendJson(res, 200, { packages, total: result.total })
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/stats',
      envelope: 'run',
      async handler({ res }) {
        const { packages, versions } = registry.catalog.counts()
        sendJson(res, 200, { package_count: packages, version_count: versions, download_count: registry.downloads.total(), uptime_percent: 100 })
      },
    },
    {
      // `/packages/<name>/<version>/artifact.wasm`, the name encoded or not (so it may span segments).
      method: 'GET',
      pattern: '/packages/*',
      envelope: 'run',
      async handler({ req, res, params, pathname }) {
        const rest = params['*'] ?? ''
        if (!rest.endsWith(DOWNLOAD_SUFFIX)) {
          // The site's package pages (`/packages/<name>.html`) live under the same prefix.
          if (await registry.statics.serve(req, res, pathname)) return
          throw noRoute(req.method ?? 'GET', pathname, [])
        }
        const slash = rest.lastIndexOf('/', rest.length - DOWNLOAD_SUFFIX.length - 1)
        if (slash <= 0) throw new WharfError('NOT_FOUND', `no artifact at ${pathname}`)
        const name = rest.slice(0, slash)
        const version = rest.slice(slash + 1, -DOWNLOAD_SUFFIX.length)
        await sendArtifact(registry, req, res, { name, version })
      },
    },
    {
      method: 'POST',
      pattern: '/api/v1/packages',
      envelope: 'run',
      async handler({ req, res }) {
        // Who is asking is settled before a byte of the upload is read.
        const who = registry.auth.require(req.headers.authorization)
        checkDeclaredLength(req, maxUploadBytes + 1024 * 1024, maxUploadBytes)
        const form = await readMultipart(req, { maxFileBytes: maxUploadBytes, fileFields: ['component', 'artifact'] })
        const parsed = parseComponentForm(form.fields, form.file)
        const record = await registry.publishComponent(who, parsed)
        const view = await readPackageView(registry.layout.public, record, url, false)
        crashPoint('answer')
        sendJson(res, 201, view, { location: `${url}/api/v1/packages/${encodeURIComponent(record.name)}/${encodeURIComponent(record.version)}` })
      },
    },
    {
      // Content-addressed artifacts (the generated API's download_url and Cargo's dl): served from the store and counted.
      method: 'GET',
      pattern: '/artifacts/sha256/:hex(^[0-9a-f]{64}$)',
      envelope: 'run',
      async handler({ req, res, params }) {
        const hex = params.hex!
        const entry = registry.catalog.bySha256(hex)
        if (!entry) throw new WharfError('NOT_FOUND', `no published artifact has sha256 ${hex}`)
        await sendArtifact(registry, req, res, { name: entry.record.name, version: entry.record.version, sha256: hex })
      },
    },
  ]
}
