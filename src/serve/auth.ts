/**
 * Bearer tokens scoped to a namespace (`*` for the admin). Every configured
 * token is compared, in constant time, on every request, so neither the
 * comparison nor the number of comparisons says how close a guess was.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { WharfError } from '../core/errors.js'

export interface Identity {
  /** The namespace the token may write, or `*`. */
  namespace: string
  /** The login the server submits as: owners of namespaces and commit authors carry it. */
  login: string
}

interface Entry extends Identity {
  digest: Buffer
}

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest()

/** A login (GitHub's rules: letters, digits, single dashes, at most 39) for the holder of a namespace's token. */
export function loginForNamespace(ns: string): string {
  if (ns.length <= 39) return ns
  const tag = createHash('sha256').update(ns).digest('hex').slice(0, 8)
  return `${ns.slice(0, 30).replace(/-+$/, '')}-${tag}`
}

export interface Authenticator {
  /** Who holds the token in an Authorization header (`Bearer T` or, as cargo sends it, `T`), or undefined. */
  identify(header: string | undefined): Identity | undefined
  /** The identity, or a 401 error when the header carries no valid token. */
  require(header: string | undefined): Identity
  /** Throws 403 unless `who` may write `namespace`. */
  authorize(who: Identity, namespace: string): void
}

export function createAuthenticator(admin: { token: string; login: string }, tokens: { namespace: string; token: string }[]): Authenticator {
  const entries: Entry[] = [
    { namespace: '*', login: admin.login, digest: digest(admin.token) },
    ...tokens.map((t) => ({ namespace: t.namespace, login: t.namespace === '*' ? admin.login : loginForNamespace(t.namespace), digest: digest(t.token) })),
  ]
  const identify = (header: string | undefined): Identity | undefined => {
    if (!header) return undefined
    const token = header.replace(/^Bearer\s+/i, '').trim()
    if (token === '') return undefined
    // Equal-length digests make timingSafeEqual usable for tokens of any length; no early exit.
    const wanted = digest(token)
    let found: Entry | undefined
    for (const entry of entries) if (timingSafeEqual(entry.digest, wanted) && !found) found = entry
    return found && { namespace: found.namespace, login: found.login }
  }
  return {
    identify,
    require(header) {
      const who = identify(header)
      if (!who) {
        throw new WharfError('UNAUTHORIZED', header ? 'the token is not valid for this registry' : 'publishing needs a token', {
          hint: 'send Authorization: Bearer <token> with a token from REGISTRY_TOKENS or REGISTRY_ADMIN_TOKEN',
        })
      }
      return who
    },
    authorize(who, namespace) {
      if (who.namespace === '*' || who.namespace === namespace) return
      throw new WharfError('FORBIDDEN', `the token is for namespace "${who.namespace}", not "${namespace}"`, {
        hint: `publish under ${who.namespace}:<name>, or use a token for ${namespace}`,
      })
    },
  }
}
