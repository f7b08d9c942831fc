/**
 * The files a publish adds to an index, built from plain values: version
 * records (components and crates), yank notices and namespace files. Every
 * way in (`wharf publish`, the Run publish form, Cargo's publish API, the
 * WasmRust API) builds them here; the caller reads files, stores artifacts
 * and picks the time. Signing is pure too (dsse.ts).
 */
import { PAYLOAD_TYPES, signDocument } from './dsse.js'
import { sha256Hex } from './hash.js'
import { KEY_ALGORITHM, type SigningKey } from './keys.js'
import { LOCAL_URL_PREFIX } from './layout.js'
import { timestamp } from './time.js'
import type { Artifact, CrateDependency, CrateInfo, Dependency, NamespaceFile, Owner, PackageKind, VersionRecord, YankNotice } from './types.js'

/** What a version record says, as plain values. */
export interface RecordFields {
  name: string
  version: string
  kind: PackageKind
  description?: string
  license?: string
  repository?: string
  homepage?: string
  /** Where the component's WIT lives (the Run publish field `wit_url`). */
  witUrl?: string
  keywords?: readonly string[]
  dependencies?: readonly Dependency[]
  /** The targets the package serves; default the artifact's. */
  targets?: readonly string[]
  artifact: Artifact
  source?: VersionRecord['source']
  crate?: CrateInfo
  publisher: string
  publishedAt: Date
}

/** The signed version record: empty optional fields are left out, so the same input always signs the same bytes. */
export function versionRecord(fields: RecordFields, key: SigningKey): VersionRecord {
  const unsigned: Omit<VersionRecord, 'signature'> = {
    schema: 'wharf:record/v1',
    name: fields.name,
    version: fields.version,
    kind: fields.kind,
    description: fields.description ?? '',
    ...(fields.license ? { license: fields.license } : {}),
    ...(fields.repository ? { repository: fields.repository } : {}),
    ...(fields.homepage ? { homepage: fields.homepage } : {}),
    ...(fields.witUrl ? { wit_url: fields.witUrl } : {}),
    ...(fields.keywords?.length ? { keywords: [...fields.keywords] } : {}),
    dependencies: [...(fields.dependencies ?? [])],
    targets: fields.targets?.length ? [...fields.targets] : [fields.artifact.target],
    artifacts: [fields.artifact],
    ...(fields.source ? { source: fields.source } : {}),
    ...(fields.crate ? { crate: fields.crate } : {}),
    published_at: timestamp(fields.publishedAt),
    publisher: { login: fields.publisher },
  }
  return signDocument(unsigned, PAYLOAD_TYPES.record, key) as VersionRecord
}

/** A file name as a record may carry it (letters, digits, `.`, `_`, `-`), from a path or an upload's name. */
export function artifactName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? 'artifact.wasm'
  // No leading or trailing period: a release asset is named so, and GitHub renames one that has it.
  return base.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').replace(/\.+$/, '') || 'artifact.wasm'
}

/** The record's entry for bytes kept in the index's own artifact store (`sha256:<hex>`). */
export function storedArtifact(bytes: Uint8Array, file: string, target: string): Artifact {
  const sha256 = sha256Hex(bytes)
  return { name: artifactName(file), target, url: `${LOCAL_URL_PREFIX}${sha256}`, sha256, size: bytes.length }
}

// ---- Crates ----

/** crates.io's index URL, which another registry's index names as the registry of a crates.io dependency. */
export const CRATES_IO_INDEX = 'https://github.com/rust-lang/crates.io-index'

/** A dependency as Cargo describes it, whether `cargo metadata` or Cargo's publish API said it. */
export interface CargoDependency {
  /** The crate's real name. */
  crate: string
  req: string
  /** The name the dependent's Cargo.toml gives it, when it renames the crate. */
  rename?: string | null
  features?: readonly string[]
  optional?: boolean
  defaultFeatures?: boolean
  target?: string | null
  kind?: 'normal' | 'dev' | 'build' | null
  /** Index URL of the registry the crate comes from; none for the registry being published to. */
  registry?: string | null
}

/** A crate as its (normalized) manifest describes it. */
export interface CrateManifest {
  name: string
  version: string
  description?: string | null
  license?: string | null
  repository?: string | null
  homepage?: string | null
  keywords?: readonly unknown[]
  links?: string | null
  rustVersion?: string | null
  features?: Record<string, string[]>
  deps: readonly CargoDependency[]
}

const KEYWORD = /^[a-z0-9][a-z0-9_-]{0,31}$/
const LINK = /^https?:\/\/\S+$/

const text = (value: unknown, max: number) => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : undefined)
const link = (value: unknown) => (typeof value === 'string' && LINK.test(value) && value.length <= 2048 ? value : undefined)

/** Search keywords as records keep them: lower case, of the allowed shape, each once, at most ten. */
export function recordKeywords(keywords: readonly unknown[]): string[] {
  return [...new Set(keywords.map((k) => String(k).toLowerCase()).filter((k) => KEYWORD.test(k)))].slice(0, 10)
}

/**
 * What a crate package's record takes from the crate's manifest: the crate
 * section a Cargo index line needs, the package dependencies, and the
 * descriptive fields where they fit a record. `packageOf` names the package
 * of this index that holds a dependency, or undefined for a crate from
 * another registry (crates.io when the manifest names none). Dev-dependencies
 * never reach a dependent, so they are no package dependencies.
 */
export function crateFields(
  manifest: CrateManifest,
  crateBytes: Uint8Array,
  packageOf: (dep: CargoDependency) => string | undefined,
): Pick<RecordFields, 'description' | 'license' | 'repository' | 'homepage' | 'keywords' | 'dependencies' | 'crate'> {
  const deps: CrateDependency[] = []
  const dependencies: Dependency[] = []
  for (const dep of manifest.deps) {
    const internal = packageOf(dep)
    const renamed = typeof dep.rename === 'string' && dep.rename !== ''
    deps.push({
      name: renamed ? dep.rename! : dep.crate,
      req: dep.req,
      features: [...(dep.features ?? [])],
      optional: dep.optional ?? false,
      default_features: dep.defaultFeatures ?? true,
      target: dep.target ?? null,
      kind: dep.kind ?? 'normal',
      ...(internal ? {} : { registry: dep.registry ?? CRATES_IO_INDEX }),
      ...(renamed ? { package: dep.crate } : {}),
    })
    if (internal && dep.kind !== 'dev' && !dependencies.some((d) => d.name === internal)) dependencies.push({ name: internal, req: dep.req, optional: dep.optional ?? false })
  }
  return {
    description: text(manifest.description, 1000) ?? '',
    license: text(manifest.license, 256),
    repository: link(manifest.repository),
    homepage: link(manifest.homepage),
    keywords: recordKeywords(manifest.keywords ?? []),
    dependencies,
    crate: {
      name: manifest.name,
      cksum: sha256Hex(crateBytes),
      features: manifest.features ?? {},
      ...(manifest.links ? { links: manifest.links } : {}),
      ...(manifest.rustVersion ? { rust_version: manifest.rustVersion } : {}),
      deps,
    },
  }
}

// ---- Yank notices and namespaces ----

export interface YankFields {
  name: string
  version: string
  reason: string
  publisher: string
  yankedAt: Date
}

export function yankNotice(fields: YankFields, key: SigningKey): YankNotice {
  const unsigned: Omit<YankNotice, 'signature'> = {
    schema: 'wharf:yank/v1',
    name: fields.name,
    version: fields.version,
    reason: fields.reason,
    yanked_at: timestamp(fields.yankedAt),
    publisher: { login: fields.publisher },
  }
  return signDocument(unsigned, PAYLOAD_TYPES.yank, key) as YankNotice
}

/** A new namespace file: its owners and the one key its records are signed with. */
export function namespaceFile(namespace: string, owners: readonly Owner[], publicKey: { id: string; publicKey: string }, createdAt: Date): NamespaceFile {
  const at = timestamp(createdAt)
  return {
    schema: 'wharf:namespace/v1',
    namespace,
    owners: [...owners],
    keys: [{ id: publicKey.id, algorithm: KEY_ALGORITHM, public_key: publicKey.publicKey, added: at }],
    created_at: at,
  }
}
