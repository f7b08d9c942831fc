import crypto from 'node:crypto'

/** Node's one-call digest (from 20.12), much cheaper than a Hash object for small inputs. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array | string) => string }).hash

export function sha256Hex(data: Uint8Array | string): string {
  return oneShot ? oneShot('sha256', data) : crypto.createHash('sha256').update(data).digest('hex')
}

export const SHA256_HEX = /^[0-9a-f]{64}$/
