/**
 * Ed25519 keys through node:crypto. A public key travels as the base64 of its
 * 32 raw bytes; its id is the first 16 hex digits of the sha256 of those bytes.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { WharfError } from './errors.js'
import { sha256Hex } from './hash.js'

export const KEY_ALGORITHM = 'ed25519'

export interface GeneratedKey {
  /** PKCS#8 PEM; keep it secret. */
  privatePem: string
  /** SPKI PEM, the `.pub` file. */
  publicPem: string
  /** base64 of the raw 32-byte public key, as namespace files hold it. */
  publicKey: string
  id: string
}

/** A private key loaded for signing, with the id of its public half. */
export interface SigningKey {
  id: string
  privateKey: KeyObject
  publicKey: string
}

export function generateKey(): GeneratedKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  const raw = rawPublicKey(publicKey)
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicKey: raw,
    id: keyId(raw),
  }
}

export function keyId(publicKey: string): string {
  return sha256Hex(Buffer.from(publicKey, 'base64')).slice(0, 16)
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new WharfError('BAD_KEY', 'the key is not an Ed25519 key', { hint: 'make one with `wharf keygen --out FILE`' })
  }
  return Buffer.from(jwk.x, 'base64url').toString('base64')
}

/** Reads a public key from SPKI PEM (a `.pub` file) or from raw base64. */
export function parsePublicKey(text: string): string {
  const trimmed = text.trim()
  try {
    if (trimmed.startsWith('-----BEGIN')) return rawPublicKey(createPublicKey(trimmed))
    if (Buffer.from(trimmed, 'base64').length === 32) return trimmed
  } catch (e) {
    throw new WharfError('BAD_KEY', `not a readable public key: ${(e as Error).message}`, {
      hint: 'pass the FILE.pub that `wharf keygen --out FILE` wrote',
    })
  }
  throw new WharfError('BAD_KEY', 'not an Ed25519 public key', { hint: 'pass the FILE.pub that `wharf keygen --out FILE` wrote' })
}

export function parsePrivateKey(pem: string): SigningKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(pem)
  } catch (e) {
    throw new WharfError('BAD_KEY', `not a readable private key: ${(e as Error).message}`, {
      hint: 'pass the private key file that `wharf keygen --out FILE` wrote (not FILE.pub)',
    })
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') {
    throw new WharfError('BAD_KEY', `the private key is ${privateKey.asymmetricKeyType}, not Ed25519`, {
      hint: 'make one with `wharf keygen --out FILE`',
    })
  }
  const publicKey = rawPublicKey(createPublicKey(privateKey))
  return { id: keyId(publicKey), privateKey, publicKey }
}

export function signBytes(key: SigningKey, data: Uint8Array): string {
  return sign(null, data, key.privateKey).toString('base64')
}

export function verifyBytes(publicKey: string, data: Uint8Array, signature: string): boolean {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey, 'base64').toString('base64url') }, format: 'jwk' })
    return verify(null, data, key, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}
