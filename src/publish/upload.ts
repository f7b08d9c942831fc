/**
 * Version records for uploads to a registry: a component sent with the Run
 * publish form, a crate sent through Cargo's publish API. `wharf serve`
 * signs them with the registry key; `wharf publish --registry --key` signs
 * the same record with the publisher's key before sending it.
 */
import { type SigningKey } from '../core/keys.js'
import { cratePackageId } from '../core/names.js'
import { crateFields, storedArtifact, versionRecord, type CrateManifest } from '../core/records.js'
import type { Dependency, VersionRecord } from '../core/types.js'
import { artifactTarget } from '../core/wasm.js'

/** What a Run publish sends besides the token. */
export interface ComponentUpload {
  name: string
  version: string
  description: string
  license?: string
  repository?: string
  witUrl?: string
  dependencies: Dependency[]
  /** The targets the package serves; default the one read from the bytes. */
  targets?: string[]
  /** Search keywords: only a record the publisher signs has them, the Run publish form has no such field. */
  keywords?: readonly string[]
  bytes: Uint8Array
  filename?: string
}

/** The record of an uploaded component, its artifact kept in the registry's store. */
export function componentRecord(upload: ComponentUpload, publisher: string, key: SigningKey, now: Date): VersionRecord {
  const file = upload.filename?.endsWith('.wasm') ? upload.filename : 'artifact.wasm'
  const { name, version, description, license, repository, witUrl, dependencies, targets, keywords } = upload
  return versionRecord(
    { name, version, kind: 'component', description, license, repository, witUrl, dependencies, targets, keywords, artifact: storedArtifact(upload.bytes, file, artifactTarget(upload.bytes)), publisher, publishedAt: now },
    key,
  )
}

/**
 * The record of a crate published to namespace `ns`: the package is
 * `<ns>:<crate name, lower case, _ as ->`, and a dependency on this registry
 * (one that names no other) is a package of the same namespace.
 */
export function crateRecord(ns: string, manifest: CrateManifest, crate: Uint8Array, publisher: string, key: SigningKey, now: Date): VersionRecord {
  const fields = crateFields(manifest, crate, (dep) => (dep.registry ? undefined : cratePackageId(ns, dep.crate)))
  const artifact = storedArtifact(crate, `${manifest.name}-${manifest.version}.crate`, 'source')
  return versionRecord({ ...fields, name: cratePackageId(ns, manifest.name), version: manifest.version, kind: 'crate', artifact, publisher, publishedAt: now }, key)
}
