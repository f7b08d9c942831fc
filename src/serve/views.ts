/**
 * The Run 2.0 package answer for routes the server computes (search, the
 * publish answer). The generated file `api/v1/packages/<name>/<version>` is
 * the source of truth and is read when it exists, so both always agree; the
 * fallback below follows the same contract (DESIGN §6) for a checkout
 * without build-api.
 */
import fs from 'node:fs'
import { runVersionFields } from '../api/index.js'
import type { PackageView } from '../client/index.js'
import type { VersionRecord } from '../core/types.js'
import { resolveUnder } from './static.js'

export type { PackageView }

/** Where a version's bytes are served: the Run download route. */
export function downloadUrl(baseUrl: string, name: string, version: string): string {
  return `${baseUrl}/packages/${encodeURIComponent(name)}/${encodeURIComponent(version)}/artifact.wasm`
}

export function packageView(record: VersionRecord, baseUrl: string, yanked = false): PackageView {
  return { ...runVersionFields(record, downloadUrl(baseUrl, record.name, record.version)), yanked }
}

/** The generated answer for a version when the API has it, else the fallback view. */
export async function readPackageView(publicDir: string, record: VersionRecord, baseUrl: string, yanked: boolean): Promise<PackageView> {
  const file = resolveUnder(publicDir, `/api/v1/packages/${record.name}/${record.version}`)
  if (file) {
    try {
      return JSON.parse(await fs.promises.readFile(file, 'utf8')) as PackageView
    } catch {
      // Not generated (yet): fall through.
    }
  }
  return packageView(record, baseUrl, yanked)
}
