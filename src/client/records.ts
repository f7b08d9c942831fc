/**
 * Checks of the signed files a client reads: a namespace file, and a version
 * record against the keys its namespace lists. The shapes are checked by
 * hand for the fields the client relies on rather than through the JSON
 * Schemas: compiling them costs more than a whole warm install, and the
 * bytes are the ones the registry's gate already validated and signed.
 */
import { PAYLOAD_TYPES, verifyDocument } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { SHA256_HEX } from '../core/hash.js'
import type { Artifact, NamespaceFile, VersionRecord } from '../core/types.js'

const isString = (v: unknown): v is string => typeof v === 'string'

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch (e) {
    throw new WharfError('INVALID_RECORD', `${file} is not JSON: ${(e as Error).message}`, { hint: 'the registry serves a broken file; report it to its operators' })
  }
}

function invalid(file: string, what: string): WharfError {
  return new WharfError('INVALID_RECORD', `${file} is not a valid ${what}`, { hint: 'the registry serves a broken file; report it to its operators' })
}

/** A registry document that must be a JSON object (a versions or namespace document), or INVALID_RECORD naming it. */
export function parseDocument(bytes: Uint8Array, file: string): Record<string, unknown> {
  const doc = parseJson(bytes, file)
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw invalid(file, 'registry document (a JSON object)')
  return doc as Record<string, unknown>
}

/** The namespace file `index/namespaces/<ns>.json`, with its keys. */
export function parseNamespaceFile(bytes: Uint8Array, namespace: string, file: string): NamespaceFile {
  const doc = parseJson(bytes, file) as NamespaceFile
  const ok =
    doc !== null &&
    typeof doc === 'object' &&
    doc.schema === 'wharf:namespace/v1' &&
    Array.isArray(doc.keys) &&
    doc.keys.every((k) => k !== null && typeof k === 'object' && isString(k.id) && isString(k.public_key))
  if (!ok) throw invalid(file, 'namespace file')
  if (doc.namespace !== namespace) throw invalid(file, `namespace file of "${namespace}" (it names "${String(doc.namespace)}")`)
  return doc
}

function isArtifact(a: Artifact): boolean {
  return a !== null && typeof a === 'object' && isString(a.name) && isString(a.url) && isString(a.sha256) && SHA256_HEX.test(a.sha256) && Number.isSafeInteger(a.size) && a.size >= 0
}

/**
 * The record in `bytes`, once it is the record of `name@version` and its
 * signature verifies with a key `namespace` lists (and has not revoked).
 */
export function verifyRecord(bytes: Uint8Array, expected: { name: string; version: string }, namespace: NamespaceFile, file: string): VersionRecord {
  const record = parseJson(bytes, file) as VersionRecord
  const ok =
    record !== null &&
    typeof record === 'object' &&
    record.schema === 'wharf:record/v1' &&
    (record.kind === 'component' || record.kind === 'crate') &&
    Array.isArray(record.dependencies) &&
    record.dependencies.every((d) => d !== null && typeof d === 'object' && isString(d.name) && isString(d.req) && typeof d.optional === 'boolean') &&
    Array.isArray(record.artifacts) &&
    record.artifacts.length > 0 &&
    record.artifacts.every(isArtifact)
  if (!ok) throw invalid(file, 'version record')
  if (record.name !== expected.name || record.version !== expected.version) {
    throw new WharfError('INVALID_RECORD', `${file} holds ${String(record.name)}@${String(record.version)}, not ${expected.name}@${expected.version}`, {
      hint: 'the registry serves a record under the wrong path; report it to its operators',
    })
  }
  const verdict = verifyDocument(record, PAYLOAD_TYPES.record, namespace.keys)
  if (!verdict.ok) {
    const listed = namespace.keys.filter((k) => !k.revoked).map((k) => k.id)
    throw new WharfError('SIGNATURE_INVALID', `the signature of ${expected.name}@${expected.version} (${file}) does not verify: ${verdict.reason}`, {
      hint: `namespace "${namespace.namespace}" lists the keys ${listed.join(', ') || '(none)'}; do not install it, and report it to the registry's operators`,
    })
  }
  return record
}
