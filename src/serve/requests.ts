/**
 * Requests into the values records are made of: the Run publish form
 * (multipart fields) and Cargo's publish body (length-framed JSON and
 * .crate), each field checked with an error that names it. The records
 * themselves are made in publish/ and core/.
 */
import { checkName, checkPackageId, crateToPackageName } from '../core/names.js'
import type { CargoDependency, CrateManifest } from '../core/records.js'
import type { VersionRecord } from '../core/types.js'
import { checkRange, checkVersion } from '../core/versions.js'
import { SHA256_HEX, sha256Hex } from '../core/hash.js'
import { schemaErrors } from '../core/schemas.js'
import { inspectWasm } from '../core/wasm.js'
import type { ComponentUpload } from '../publish/index.js'
import { fieldError } from './http.js'

export interface ComponentForm extends ComponentUpload {
  sha256: string
  /** A complete record the publisher signed; the server then signs nothing. */
  signed?: VersionRecord
}

const TARGET = /^[a-z0-9_.-]{1,64}$/

function parseJsonField<T>(fields: Map<string, string>, field: string): T | undefined {
  const raw = fields.get(field)
  if (raw === undefined || raw.trim() === '') return undefined
  try {
    return JSON.parse(raw) as T
  } catch (e) {
    throw fieldError('INVALID_INPUT', field, `field "${field}" is not JSON: ${(e as Error).message}`, `send ${field} as a JSON array`)
  }
}

function parseDependencies(fields: Map<string, string>): ComponentUpload['dependencies'] {
  const raw = parseJsonField<unknown>(fields, 'dependencies')
  if (raw === undefined) return []
  // Either the Run answer's shape [{name, version, optional}] or a map {"ns:name": "^1.0"}.
  const list: unknown[] = Array.isArray(raw)
    ? raw
    : raw !== null && typeof raw === 'object'
      ? Object.entries(raw as Record<string, unknown>).map(([name, version]) => ({ name, version }))
      : [null]
  return list.map((item, i) => {
    const d = item as { name?: unknown; version?: unknown; req?: unknown; optional?: unknown } | null
    const name = d?.name
    const req = d?.version ?? d?.req
    if (typeof name !== 'string' || typeof req !== 'string') {
      throw fieldError('INVALID_INPUT', 'dependencies', `dependencies[${i}] needs a string "name" and a string "version" range`, 'e.g. [{"name":"wasi:io","version":"^0.2.0"}]')
    }
    const problem = checkPackageId(name) ?? checkRange(req)
    if (problem) throw fieldError('INVALID_INPUT', 'dependencies', `dependencies[${i}]: ${problem}`)
    if (d?.optional !== undefined && typeof d.optional !== 'boolean') throw fieldError('INVALID_INPUT', 'dependencies', `dependencies[${i}].optional must be true or false`)
    return { name, req, optional: d?.optional === true }
  })
}

function optionalText(fields: Map<string, string>, field: string, max: number): string | undefined {
  const value = fields.get(field)?.trim()
  if (!value) return undefined
  if (value.length > max) throw fieldError('INVALID_INPUT', field, `field "${field}" is longer than ${max} characters`)
  return value
}

function url(fields: Map<string, string>, field: string): string | undefined {
  const value = optionalText(fields, field, 2048)
  if (value !== undefined && !/^https?:\/\/\S+$/.test(value)) throw fieldError('INVALID_INPUT', field, `field "${field}" must be an http(s) URL`)
  return value
}

/** Validates a Run publish form (DESIGN §7) field by field; each error names its field. */
export function parseComponentForm(fields: Map<string, string>, file: { field: string; filename?: string; bytes: Buffer } | undefined): ComponentForm {
  const name = fields.get('name')?.trim()
  if (!name) throw fieldError('INVALID_INPUT', 'name', 'field "name" is missing', 'send name=<namespace>:<name>, e.g. run:calc/calculator')
  const nameProblem = checkPackageId(name)
  if (nameProblem) throw fieldError('INVALID_NAME', 'name', nameProblem, 'names are lower case: <namespace>:<name>, e.g. run:calc/calculator')
  const version = fields.get('version')?.trim()
  if (!version) throw fieldError('INVALID_INPUT', 'version', 'field "version" is missing', 'send version=<SemVer>, e.g. 0.1.0')
  const versionProblem = checkVersion(version)
  if (versionProblem) throw fieldError('INVALID_VERSION', 'version', versionProblem, 'use a SemVer 2.0 version such as 1.2.3')
  if (!file) throw fieldError('INVALID_INPUT', 'component', 'the form has no file part "component" or "artifact"', 'attach the .wasm file as component=@file.wasm')
  if (file.bytes.length === 0) throw fieldError('INVALID_INPUT', file.field, 'the uploaded file is empty')
  const sha256 = fields.get('sha256')?.trim().toLowerCase()
  if (!sha256) throw fieldError('INVALID_INPUT', 'sha256', 'field "sha256" is missing', 'send the sha256 hex digest of the file (sha256sum FILE)')
  if (!SHA256_HEX.test(sha256)) throw fieldError('INVALID_DIGEST', 'sha256', `"${sha256}" is not a sha256 hex digest`)
  const actual = sha256Hex(file.bytes)
  if (actual !== sha256) {
    throw fieldError('DIGEST_MISMATCH', 'sha256', `the file hashes to ${actual}, but sha256 says ${sha256}`, 'the upload changed on the way, or sha256 belongs to another file')
  }
  const inspection = inspectWasm(file.bytes)
  if (!inspection.ok) throw fieldError('INVALID_ARTIFACT', file.field, `the file is not valid WebAssembly: ${inspection.reason}`, 'upload a .wasm component or module')
  const description = optionalText(fields, 'description', 1000) ?? ''
  const license = optionalText(fields, 'license', 256)
  const targets = parseJsonField<unknown>(fields, 'targets')
  if (targets !== undefined && (!Array.isArray(targets) || targets.length > 32 || targets.some((t) => typeof t !== 'string' || !TARGET.test(t)))) {
    throw fieldError('INVALID_INPUT', 'targets', 'field "targets" must be a JSON array of target names such as "wasm32-wasip2"')
  }
  const signed = parseJsonField<VersionRecord>(fields, 'record')
  if (signed !== undefined) {
    if (typeof signed !== 'object' || signed === null || Array.isArray(signed) || signed.name !== name || signed.version !== version) {
      throw fieldError('INVALID_INPUT', 'record', 'field "record" must be the signed record of this name and version')
    }
    // Checked against its schema before any of it is used (a signature, an artifact list of the wrong shape).
    const problems = schemaErrors('record', signed)
    if (problems.length > 0) throw fieldError('INVALID_INPUT', 'record', `field "record" is not a valid record: ${problems.slice(0, 3).join('; ')}`, 'send the record as `wharf publish --key` signs it')
    if (!signed.artifacts.some((a) => a.sha256 === sha256)) throw fieldError('INVALID_INPUT', 'record', 'the signed record does not name the uploaded file (no artifact with its sha256)')
  }
  return {
    name,
    version,
    description,
    license,
    repository: url(fields, 'repository'),
    witUrl: url(fields, 'wit_url'),
    dependencies: parseDependencies(fields),
    targets: targets === undefined ? undefined : [...new Set(targets as string[])],
    sha256,
    bytes: file.bytes,
    filename: file.filename,
    signed,
  }
}

// ---- Cargo ----

/** The JSON cargo sends ahead of the .crate in `cargo publish` (the fields wharf keeps). */
export interface CargoPublishMetadata {
  name: string
  vers: string
  deps?: {
    name: string
    version_req: string
    features?: string[]
    optional?: boolean
    default_features?: boolean
    target?: string | null
    kind?: 'normal' | 'dev' | 'build'
    registry?: string | null
    explicit_name_in_toml?: string | null
  }[]
  features?: Record<string, string[]>
  description?: string | null
  license?: string | null
  repository?: string | null
  homepage?: string | null
  keywords?: string[]
  links?: string | null
  rust_version?: string | null
}

const CRATE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/

/** Splits Cargo's publish body: u32 LE length, JSON, u32 LE length, .crate bytes. */
export function parseCargoPublish(body: Buffer): { metadata: CargoPublishMetadata; crate: Buffer } {
  const bad = (why: string) => fieldError('INVALID_INPUT', 'body', `not a cargo publish body: ${why}`, 'publish with `cargo publish --registry NAME`')
  if (body.length < 4) throw bad('it is shorter than its length prefix')
  const jsonLength = body.readUInt32LE(0)
  if (jsonLength > body.length - 8) throw bad(`the metadata length ${jsonLength} runs past the end of the body`)
  let metadata: CargoPublishMetadata
  try {
    metadata = JSON.parse(body.subarray(4, 4 + jsonLength).toString('utf8')) as CargoPublishMetadata
  } catch (e) {
    throw bad(`the metadata is not JSON (${(e as Error).message})`)
  }
  const crateLength = body.readUInt32LE(4 + jsonLength)
  const crate = body.subarray(8 + jsonLength)
  if (crate.length !== crateLength) throw bad(`the .crate is ${crate.length} bytes, but its length prefix says ${crateLength}`)
  if (typeof metadata !== 'object' || metadata === null) throw bad('the metadata is not an object')
  return { metadata, crate }
}

export function checkCrateName(name: unknown): string {
  if (typeof name !== 'string' || !CRATE_NAME.test(name)) {
    throw fieldError('INVALID_NAME', 'name', `crate name ${JSON.stringify(name)} is not a valid crate name`, 'crate names start with a letter and hold letters, digits, - and _')
  }
  const problem = checkName(crateToPackageName(name))
  if (problem) throw fieldError('INVALID_NAME', 'name', `crate "${name}" has no wharf package name: ${problem}`, 'avoid "__", "--" and a trailing "-" or "_"')
  return name
}

type JsonType = 'string' | 'boolean' | 'array' | 'object'

const typeOf = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value)

/**
 * `value` when it has the JSON type `type` (or is absent or null, where
 * `nullable`); else a 400 that names the field. Cargo sends each of these
 * with one type; anything else is a hand-made body, refused before use.
 */
function typed<T>(value: unknown, type: JsonType, field: string, where: string, nullable = true): T | undefined {
  if (value === undefined || (nullable && value === null)) return undefined
  if (typeOf(value) !== type) {
    throw fieldError('INVALID_INPUT', field, `${where} must be ${type === 'array' ? 'an array' : type === 'object' ? 'an object' : `a ${type}`}${nullable ? ' or null' : ''}, not ${typeOf(value)}`, 'publish with `cargo publish`, which sends the metadata in this shape')
  }
  return value as T
}

function stringList(value: unknown, field: string, where: string): string[] | undefined {
  const list = typed<unknown[]>(value, 'array', field, where)
  if (list?.some((x) => typeof x !== 'string')) throw fieldError('INVALID_INPUT', field, `${where} must be a list of strings`)
  return list as string[] | undefined
}

const DEP_KINDS = ['normal', 'dev', 'build']

/** The crate a Cargo publish describes, every field checked for its type and its name, version and dependencies for their values; a 400 names the field. */
export function cargoManifest(metadata: CargoPublishMetadata): CrateManifest {
  const m = metadata as unknown as Record<string, unknown>
  const name = checkCrateName(m.name)
  const version = m.vers
  const versionProblem = typeof version === 'string' ? checkVersion(version) : `the version ${version === undefined ? 'is missing' : `must be a string, not ${typeOf(version)}`}`
  if (versionProblem) throw fieldError('INVALID_VERSION', 'vers', versionProblem, 'use a SemVer 2.0 version such as 1.2.3')
  const rawDeps = typed<unknown[]>(m.deps, 'array', 'deps', 'deps', false) ?? []
  const deps: CargoDependency[] = rawDeps.map((raw, i) => {
    const where = `deps[${i}]`
    const d = typed<Record<string, unknown>>(raw, 'object', 'deps', where, false)!
    const crate = d.name
    const req = d.version_req
    if (typeof crate !== 'string' || typeof req !== 'string') throw fieldError('INVALID_INPUT', 'deps', `${where} needs a name and a version_req, both strings`)
    const kind = typed<string>(d.kind, 'string', 'deps', `${where}.kind`)
    if (kind !== undefined && !DEP_KINDS.includes(kind)) throw fieldError('INVALID_INPUT', 'deps', `${where}.kind must be one of ${DEP_KINDS.join(', ')}`)
    return {
      crate,
      req,
      rename: typed<string>(d.explicit_name_in_toml, 'string', 'deps', `${where}.explicit_name_in_toml`),
      features: stringList(d.features, 'deps', `${where}.features`),
      optional: typed<boolean>(d.optional, 'boolean', 'deps', `${where}.optional`),
      defaultFeatures: typed<boolean>(d.default_features, 'boolean', 'deps', `${where}.default_features`),
      target: typed<string>(d.target, 'string', 'deps', `${where}.target`) ?? null,
      kind: kind as CargoDependency['kind'],
      registry: typed<string>(d.registry, 'string', 'deps', `${where}.registry`),
    }
  })
  const features = typed<Record<string, unknown>>(m.features, 'object', 'features', 'features')
  for (const [feature, enables] of Object.entries(features ?? {})) stringList(enables, 'features', `features[${JSON.stringify(feature)}]`)
  const text = (field: string) => typed<string>(m[field], 'string', field, field)
  return {
    name,
    version: version as string,
    description: text('description'),
    license: text('license'),
    repository: text('repository'),
    homepage: text('homepage'),
    keywords: stringList(m.keywords, 'keywords', 'keywords') ?? [],
    links: text('links'),
    rustVersion: text('rust_version'),
    features: features as Record<string, string[]> | undefined,
    deps,
  }
}
