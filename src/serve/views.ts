/**
 * The Run 2.0 package answer for routes the server computes (search, the
 * publish answer). The generated file `api/v1/packages/<name>/<version>` is
 * the source of truth and is read when it exists, so both always agree; the
 * fallback below follows the same contract (DESIGN §6) for a checkout
 * without build-api.
 */
import fs from 'node:fs'
import type { VersionRecord } from '../core/types.js'
import { resolveUnder } from './static.js'

export interface PackageView {
  name: string
  version: string
  description: string
  license?: string
  size: number
  sha256: string
  download_url: string
  wit_url?: string
  dependencies: { name: string; version: string; optional: boolean }[]
  targets: string[]
  repository?: string
  published_at: number
  [more: string]: unknown
}

/** Where a version's bytes are served: the Run download route. */
export function downloadUrl(baseUrl: string, name: string, version: string): string {
  return `${baseUrl}/packages/${encodeURIComponent(name)}/${encodeURIComponent(version)}/artifact.wasm`
}

/** The artifact a version is downloaded as: its component (wasm32-wasip2 first), or its .crate. */
export function primaryArtifact(record: VersionRecord): VersionRecord['artifacts'][number] {
  const artifacts = record.artifacts
  if (record.kind === 'crate') return artifacts.find((a) => a.name.endsWith('.crate')) ?? artifacts[0]!
  return artifacts.find((a) => a.target === 'wasm32-wasip2') ?? artifacts.find((a) => a.name.endsWith('.wasm')) ?? artifacts[0]!
}

export function packageView(record: VersionRecord, baseUrl: string, yanked = false): PackageView {
  const artifact = primaryArtifact(record)
  return {
    name: record.name,
    version: record.version,
    description: record.description,
    ...(record.license ? { license: record.license } : {}),
    size: artifact.size,
    sha256: artifact.sha256,
    download_url: downloadUrl(baseUrl, record.name, record.version),
    ...(record.wit_url ? { wit_url: record.wit_url } : {}),
    dependencies: record.dependencies.map((d) => ({ name: d.name, version: d.req, optional: d.optional })),
    targets: record.targets,
    ...(record.repository ? { repository: record.repository } : {}),
    published_at: Math.floor(Date.parse(record.published_at) / 1000),
    kind: record.kind,
    yanked,
  }
}

/** The generated answer for a version when the API has it, else the fallback view. */
export async function readPackageView(publicDir: string, record: VersionRecord, baseUrl: string, yanked: boolean): Promise<PackageView> {
  const file = resolveUnder(publicDir, `/api/v1/packages/${record.name}/${record.version}`)
  if (file) {
    try {
      const generated = JSON.parse(await fs.promises.readFile(file, 'utf8')) as PackageView
      // wit_url is newer than the generated document format: carry it over from the record when the file lacks it.
      return record.wit_url && generated.wit_url === undefined ? { ...generated, wit_url: record.wit_url } : generated
    } catch {
      // Not generated (yet): fall through.
    }
  }
  return packageView(record, baseUrl, yanked)
}
