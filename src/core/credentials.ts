/**
 * An environment for code wharf does not trust (a crate's build script, its
 * dependencies' build scripts and proc macros, its tests): the caller's,
 * without the credentials it holds: the Action's inputs (INPUT_KEY is a
 * namespace's private key, INPUT_TOKEN a token), the runner's own tokens
 * (ACTIONS_RUNTIME_TOKEN uploads artifacts, ACTIONS_ID_TOKEN_REQUEST_TOKEN
 * mints OIDC tokens), GitHub tokens, and the tokens of wharf and its server.
 */
export function withoutCredentials(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !CREDENTIAL_PREFIX.test(name) && !CREDENTIALS.has(name.toUpperCase())))
}
const CREDENTIAL_PREFIX = /^(?:INPUT_|ACTIONS_)/i
const CREDENTIALS = new Set(['GITHUB_TOKEN', 'GH_TOKEN', 'WHARF_TOKEN', 'REGISTRY_TOKENS', 'REGISTRY_ADMIN_TOKEN'])
