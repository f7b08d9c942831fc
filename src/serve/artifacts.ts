/** Artifact downloads from the store: the Run download route, content-addressed URLs and Cargo's `dl`, each counted. */
import fs from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { primaryArtifact } from '../api/index.js'
import { WharfError } from '../core/errors.js'
import { artifactPath } from '../store/index.js'
import { securityHeaders } from './http.js'
import type { Registry } from './registry.js'

export interface ArtifactRequest {
  name: string
  version: string
  /** Which of the version's artifacts; default its primary one. */
  sha256?: string
}

/** The type an artifact is served as, from its name: bytes a browser saves rather than renders. */
export function artifactType(name: string): string {
  if (name.endsWith('.wasm')) return 'application/wasm'
  if (name.endsWith('.crate') || name.endsWith('.tar.gz') || name.endsWith('.tgz')) return 'application/gzip'
  return 'application/octet-stream'
}

/** `attachment; filename="..."` with a name the publisher chose, cut down to characters no header or shell misreads. */
export function attachment(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^[._]+/, '').slice(0, 128)
  return `attachment; filename="${safe || 'artifact'}"`
}

/** Streams a published artifact (immutable: cached for a year, with its digest as ETag) and counts the download. */
export async function sendArtifact(registry: Registry, req: IncomingMessage, res: ServerResponse, wanted: ArtifactRequest): Promise<void> {
  const { name, version } = wanted
  const entry = registry.catalog.get(name, version)
  if (!entry) throw new WharfError('NOT_FOUND', `${name}@${version} is not published here`, { hint: 'GET /api/v1/packages/<name>/versions lists the versions' })
  const artifact = entry.record.artifacts.find((a) => a.sha256 === wanted.sha256) ?? primaryArtifact(entry.record)
  const file = artifactPath(registry.repo.dir, artifact.sha256)
  const etag = `"${artifact.sha256}"`
  const type = artifactType(artifact.name)
  const headers = { 'content-type': type, 'content-disposition': attachment(artifact.name), etag, 'cache-control': 'public, max-age=31536000, immutable', ...securityHeaders(type) }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers)
    res.end()
    return
  }
  let stat: fs.Stats
  try {
    stat = await fs.promises.stat(file)
  } catch {
    throw new WharfError('ARTIFACT_MISSING', `the artifact of ${name}@${version} is missing from the store`)
  }
  res.writeHead(200, { ...headers, 'content-length': stat.size })
  if (req.method === 'HEAD') return void res.end()
  registry.downloads.count(entry.record.name, entry.record.version)
  fs.createReadStream(file).pipe(res)
}
