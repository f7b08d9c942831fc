/**
 * Signatures as DSSE envelopes (https://github.com/secure-systems-lab/dsse).
 *
 * A signed document stores a detached envelope in its `signature` field: the
 * payload is the RFC 8785 canonical JSON of the document without that field,
 * so it is rebuilt from the document and never stored twice. `toEnvelope`
 * re-attaches it, which is the form a Sigstore bundle carries.
 */
import { canonicalJson } from './canonical.js'
import { WharfError } from './errors.js'
import { jsonValueProblem } from './json.js'
import { signBytes, verifyBytes, type SigningKey } from './keys.js'

export const PAYLOAD_TYPES = {
  record: 'application/vnd.wharf.record.v1+json',
  yank: 'application/vnd.wharf.yank.v1+json',
  snapshot: 'application/vnd.wharf.snapshot.v1+json',
} as const

export interface DetachedSignature {
  payloadType: string
  signatures: { keyid: string; sig: string }[]
}

export interface Envelope extends DetachedSignature {
  /** base64 of the payload bytes. */
  payload: string
}

/** A key a verifier trusts: id and raw base64 public key, and when it stopped being trusted. */
export interface TrustedKey {
  id: string
  public_key: string
  revoked?: string
}

/** Pre-Authentication Encoding: "DSSEv1 <len type> <type> <len body> <body>". */
export function pae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8')
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload])
}

/** The bytes a signature covers: canonical JSON of the document minus its `signature`. */
export function signedPayload(document: object): Buffer {
  const { signature: _omit, ...unsigned } = document as Record<string, unknown>
  return Buffer.from(canonicalJson(unsigned), 'utf8')
}

/**
 * Signs `document`. A document with a reserved key (`__proto__`,
 * `constructor`, `prototype`) or a lone surrogate is refused: readers could
 * disagree on what such a payload says.
 */
export function signDocument<T extends object>(document: T, payloadType: string, key: SigningKey): T & { signature: DetachedSignature } {
  const problem = jsonValueProblem(document)
  if (problem) throw new WharfError('INVALID_INPUT', `refusing to sign: ${problem.message}`, { hint: 'remove the field or character named' })
  const sig = signBytes(key, pae(payloadType, signedPayload(document)))
  return { ...document, signature: { payloadType, signatures: [{ keyid: key.id, sig }] } }
}

export type VerifyResult = { ok: true; keyid: string } | { ok: false; reason: string }

/**
 * Verifies a document's detached signature against trusted keys. At least one
 * signature must come from a listed, unrevoked key and verify.
 */
export function verifyDocument(document: object, payloadType: string, keys: readonly TrustedKey[]): VerifyResult {
  const signature = (document as { signature?: DetachedSignature }).signature
  if (!signature || !Array.isArray(signature.signatures) || signature.signatures.length === 0) {
    return { ok: false, reason: 'the document is not signed' }
  }
  if (signature.payloadType !== payloadType) {
    return { ok: false, reason: `payloadType is "${signature.payloadType}", expected "${payloadType}"` }
  }
  let message: Buffer
  try {
    message = pae(payloadType, signedPayload(document))
  } catch (e) {
    return { ok: false, reason: (e as Error).message }
  }
  const reasons: string[] = []
  for (const entry of signature.signatures as unknown[]) {
    // The document is data: an entry that is no {keyid, sig} of strings is a reason, not a crash.
    const { keyid, sig } = (typeof entry === 'object' && entry !== null ? entry : {}) as Partial<Record<'keyid' | 'sig', unknown>>
    if (typeof keyid !== 'string' || typeof sig !== 'string') {
      reasons.push('a signature entry is not {keyid, sig} of strings')
      continue
    }
    const key = keys.find((k) => k.id === keyid)
    if (!key) reasons.push(`key ${keyid} is not one of the trusted keys`)
    else if (key.revoked) reasons.push(`key ${keyid} was revoked on ${key.revoked}`)
    else if (!verifyBytes(key.public_key, message, sig)) reasons.push(`the signature by key ${keyid} does not match the content`)
    else return { ok: true, keyid }
  }
  return { ok: false, reason: reasons.join('; ') }
}

export function toEnvelope(document: { signature: DetachedSignature }): Envelope {
  return { ...document.signature, payload: signedPayload(document).toString('base64') }
}
