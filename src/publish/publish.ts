/** `wharf publish --index`: store the artifact, write and sign its record, and propose it. */
import fs from 'node:fs'
import { PAYLOAD_TYPES, signDocument } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { parsePrivateKey } from '../core/keys.js'
import { recordPath } from '../core/layout.js'
import { parsePackageId } from '../core/names.js'
import type { Artifact, CrateInfo, Dependency, PackageKind, VersionRecord } from '../core/types.js'
import { parseVersion } from '../core/versions.js'
import { inspectWasm } from '../core/wasm.js'
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
  keywords?: string[]
  kind?: PackageKind
  crate?: CrateInfo
  source?: VersionRecord['source']
  now?: Date
}

export interface PublishResult extends Proposal {
  record: VersionRecord
}

/** The target a wasm binary most likely serves, from its bytes. */
export function defaultTarget(bytes: Uint8Array): string {
  const inspection = inspectWasm(bytes)
  if (!inspection.ok) throw new WharfError('INVALID_ARTIFACT', `the artifact is not valid WebAssembly: ${inspection.reason}`, { hint: 'publish a .wasm component or module' })
  if (inspection.kind === 'component') return 'wasm32-wasip2'
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes as Uint8Array<ArrayBuffer>))
  return imports.some((i) => i.module.startsWith('wasi_snapshot_preview1')) ? 'wasm32-wasip1' : 'wasm32-unknown-unknown'
}

export function artifactName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? 'artifact.wasm'
  return base.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'artifact.wasm'
}

export async function publishToIndex(repo: Repo, options: PublishOptions): Promise<PublishResult> {
  const id = parsePackageId(options.name)
  const version = parseVersion(options.version)
  await assertNewVersion(repo, { ...id, version })
  const key = parsePrivateKey(options.privateKey)
  let bytes: Buffer
  try {
    bytes = await fs.promises.readFile(options.artifact)
  } catch (e) {
    throw new WharfError('NOT_FOUND', `cannot read artifact ${options.artifact}: ${(e as Error).message}`, { hint: 'pass the path of a built .wasm file' })
  }
  const kind = options.kind ?? 'component'
  const target = options.target ?? (kind === 'crate' ? 'source' : defaultTarget(bytes))
  const stored = await putArtifact(repo.dir, bytes)
  const artifact: Artifact = { name: artifactName(options.artifact), target, url: stored.url, sha256: stored.sha256, size: stored.size }
  const unsigned: Omit<VersionRecord, 'signature'> = {
    schema: 'wharf:record/v1',
    name: options.name,
    version,
    kind,
    description: options.description ?? '',
    ...(options.license ? { license: options.license } : {}),
    ...(options.repository ? { repository: options.repository } : {}),
    ...(options.keywords?.length ? { keywords: options.keywords } : {}),
    dependencies: options.dependencies ?? [],
    targets: [target],
    artifacts: [artifact],
    ...(options.source ? { source: options.source } : {}),
    ...(options.crate ? { crate: options.crate } : {}),
    published_at: (options.now ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    publisher: { login: options.author },
  }
  const record = signDocument(unsigned, PAYLOAD_TYPES.record, key) as VersionRecord
  const branch = `publish/${id.namespace}/${id.name}/${version}`
  const proposal = await propose(repo, branch, [{ path: recordPath(options.name, version), json: record, schema: 'record' }], `Publish ${options.name}@${version}`, options.author)
  return { ...proposal, record }
}
