/**
 * A publish that carries a record its publisher signed: the signature is
 * verified first, against the keys main's namespace file holds, before
 * anything is fetched or stored; then every remote artifact the record names
 * is fetched (by check's own fetch, under its rules and the registry's
 * limits) and hashed, outside the write lock. Under the lock, check reads those bytes and
 * verifies everything again against the tip it is about to extend.
 */
import { PAYLOAD_TYPES, verifyDocument, type TrustedKey } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { namespacePath } from '../core/layout.js'
import type { NamespaceFile, VersionRecord } from '../core/types.js'
import { fetchLimited, readRegistry, type Fetch } from '../check/index.js'
import { MAIN, readJsonAt, type Repo } from '../git/index.js'
import { isLocalUrl } from '../store/index.js'

export interface SignedUpload {
  record: VersionRecord
  /** The uploaded file and its sha256. */
  bytes: Uint8Array
  sha256: string
}

/**
 * Verifies the record's signature with the keys its namespace holds on main
 * (the registry's own key for a namespace the server will create), then
 * fetches its remote artifacts; returns the bytes by URL, for check.
 */
export async function prepareSigned(repo: Repo, upload: SignedUpload, options: { registryKey: TrustedKey; fetch?: Fetch }): Promise<Map<string, Uint8Array>> {
  const { record } = upload
  const ns = record.name.slice(0, record.name.indexOf(':'))
  const namespace = await readJsonAt<NamespaceFile>(repo, MAIN, namespacePath(ns))
  const verdict = verifyDocument(record, PAYLOAD_TYPES.record, namespace?.keys ?? [options.registryKey])
  if (!verdict.ok) {
    throw new WharfError('REJECTED', `record/signature: the record's signature does not verify: ${verdict.reason}`, {
      field: 'record',
      hint: `sign with a key registered in index/namespaces/${ns}.json (wharf publish --registry URL --key FILE)`,
    })
  }
  const policy = (await readRegistry(repo, MAIN)).policy
  const fetched = new Map<string, Uint8Array>()
  for (const artifact of record.artifacts) {
    if (isLocalUrl(artifact.url) || fetched.has(artifact.url)) continue
    if (artifact.sha256 === upload.sha256) {
      // The upload is these bytes: no need to fetch what the publisher just sent.
      fetched.set(artifact.url, upload.bytes)
      continue
    }
    const bytes = await fetchLimited(options.fetch, artifact.url, {
      maxBytes: Math.min(policy.limits.max_artifact_bytes, artifact.size),
      timeoutMs: policy.limits.fetch_timeout_ms,
      allowHttpLoopback: policy.urls.allow_http_loopback,
    })
    const digest = sha256Hex(bytes)
    if (digest !== artifact.sha256) {
      throw new WharfError('DIGEST_MISMATCH', `artifact ${artifact.name} at ${artifact.url} hashes to ${digest}, but the record says ${artifact.sha256}`, {
        field: 'record',
        hint: 'the bytes changed after signing: sign a record that names the artifact as it is',
      })
    }
    fetched.set(artifact.url, bytes)
  }
  return fetched
}
