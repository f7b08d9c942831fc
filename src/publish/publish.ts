/** `wharf publish --index`: store the artifact, write and sign its record, and propose it. */
import fs from 'node:fs'
import { WharfError } from '../core/errors.js'
import { parsePrivateKey } from '../core/keys.js'
import { recordPath } from '../core/layout.js'
import { parsePackageId } from '../core/names.js'
import { storedArtifact, versionRecord } from '../core/records.js'
import type { CrateInfo, Dependency, PackageKind, VersionRecord } from '../core/types.js'
import { parseVersion } from '../core/versions.js'
import { artifactTarget } from '../core/wasm.js'
import type { Repo } from '../git/index.js'
import { putArtifact } from '../store/index.js'
import { assertNewVersion, propose, type Proposal } from './propose.js'

export interface PublishOptions {
  /** Path of the artifact file. */
  artifact: string
  name: string
  version: string
  /** PKCS#8 PEM of the publisher's private key. */
  privateKey: string
  author: string
  description?: string
  license?: string
  repository?: string
  dependencies?: Dependency[]
  target?: string
  keywords?: readonly string[]
  homepage?: string
  kind?: PackageKind
  crate?: CrateInfo
  source?: VersionRecord['source']
  now?: Date
}

export interface PublishResult extends Proposal {
  record: VersionRecord
}

export async function publishToIndex(repo: Repo, options: PublishOptions): Promise<PublishResult> {
  const id = parsePackageId(options.name)
  const version = parseVersion(options.version)
  await assertNewVersion(repo, { ...id, version })
  // A bad key is reported before the artifact is read, as the arguments are typed.
  parsePrivateKey(options.privateKey)
  const bytes = await readArtifactFile(options.artifact)
  const record = signRecord({ ...options, version }, bytes, options.artifact)
  await putArtifact(repo.dir, bytes)
  const branch = `publish/${id.namespace}/${id.name}/${version}`
  const proposal = await propose(repo, branch, [{ path: recordPath(options.name, version), json: record, schema: 'record' }], `Publish ${options.name}@${version}`, options.author)
  return { ...proposal, record }
}

/** The bytes of the artifact file a publish names. */
export async function readArtifactFile(file: string): Promise<Buffer> {
  try {
    return await fs.promises.readFile(file)
  } catch (e) {
    throw new WharfError('NOT_FOUND', `cannot read artifact ${file}: ${(e as Error).message}`, { hint: 'pass the path of a built .wasm file' })
  }
}

/**
 * The signed version record of `bytes` (read from `file`), as every publish
 * writes it: the artifact kept at `url`, by default the index's own store
 * (`sha256:<hex>`).
 */
export function signRecord(options: Omit<PublishOptions, 'artifact'>, bytes: Uint8Array, file: string, url?: string): VersionRecord {
  const key = parsePrivateKey(options.privateKey)
  const kind = options.kind ?? 'component'
  const target = options.target ?? (kind === 'crate' ? 'source' : artifactTarget(bytes))
  const stored = storedArtifact(bytes, file, target)
  const artifact = url === undefined ? stored : { ...stored, url }
  const { name, version, description, license, repository, homepage, keywords, dependencies, source, crate } = options
  const fields = { name, version, kind, description, license, repository, homepage, keywords, dependencies, artifact, source, crate }
  return versionRecord({ ...fields, publisher: options.author, publishedAt: options.now ?? new Date() }, key)
}
