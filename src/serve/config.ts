/**
 * `wharf serve` configuration, read from the Run registry's environment
 * variables (DESIGN §7) so a deployment of that registry keeps its settings.
 */
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { checkNamespace } from '../core/names.js'

export interface ServeConfig {
  /** TCP port; 0 picks a free one (tests). */
  port: number
  /** Interface to listen on. */
  host: string
  /** The public base URL written into download URLs and the Cargo config. Defaults to http://localhost:PORT. */
  url?: string
  /** Where the index repo, artifact store, generated API and server state live. */
  dataDir: string
  /** Token for namespace `*`; generated on first start when absent. */
  adminToken?: string
  /** Per-namespace publish tokens. */
  tokens: NamespaceToken[]
  /** Largest accepted upload, in bytes. */
  maxUploadBytes: number
  /** Writes allowed per minute across all clients; each client gets a quarter of it (at least 1). */
  rateLimitPerMin: number
  /** The registry's name, written into index/registry.json at the first start (REGISTRY_NAME). */
  name?: string
  /** The registry's public key (base64, PEM or key id): the server refuses to start with another key (PUBLIC_KEY). */
  publicKey?: string
  /** Sync every peer this often, in ms (REGISTRY_SYNC_INTERVAL); off when absent. */
  syncIntervalMs?: number
  /** Where a log line goes (one per request and per publish step). */
  log?: (line: string) => void
  /**
   * How `POST /tests/{id}` runs uploaded code: under bubblewrap (`bwrap`,
   * default the one on PATH), or, only when the operator opted out by name
   * (REGISTRY_UNSANDBOXED_TESTS), with the server's own rights.
   */
  sandbox?: { bwrap?: string; unsandboxed?: boolean }
}

/** The value of REGISTRY_UNSANDBOXED_TESTS that runs uploaded crates without a sandbox. */
export const UNSANDBOXED_OPT_OUT = 'i-understand-this-runs-untrusted-code'

export interface NamespaceToken {
  namespace: string
  token: string
}

export const DEFAULTS = {
  port: 8080,
  host: '0.0.0.0',
  dataDir: './registry-data',
  maxUploadMb: 50,
  rateLimitPerMin: 120,
} as const

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name]
  if (raw === undefined || raw.trim() === '') return fallback
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min) {
    throw new WharfError('USAGE', `${name}="${raw}" is not a whole number of at least ${min}`, { hint: `unset ${name} to use ${fallback}` })
  }
  return Number(raw)
}

/** `ns:token,ns:token`; a token may itself hold colons. */
export function parseTokens(text: string | undefined): NamespaceToken[] {
  if (!text || text.trim() === '') return []
  return text.split(',').map((pair) => {
    const colon = pair.indexOf(':')
    const namespace = pair.slice(0, colon).trim()
    const token = pair.slice(colon + 1).trim()
    if (colon < 0 || token === '') {
      throw new WharfError('USAGE', `REGISTRY_TOKENS entry "${pair}" is not namespace:token`, { hint: 'write REGISTRY_TOKENS=acme:TOKEN1,run:TOKEN2' })
    }
    const problem = namespace === '*' ? undefined : checkNamespace(namespace)
    if (problem) throw new WharfError('USAGE', `REGISTRY_TOKENS: ${problem}`, { hint: 'namespaces are lower case, e.g. acme' })
    return { namespace, token }
  })
}

const UNITS: Record<string, number> = { '': 1000, s: 1000, m: 60_000, h: 3_600_000 }

/** `REGISTRY_SYNC_INTERVAL`: seconds, or a number with s, m or h; 0 or empty turns it off. */
export function parseInterval(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined
  const m = /^(\d+)\s*(s|m|h)?$/i.exec(raw.trim())
  if (!m) throw new WharfError('USAGE', `REGISTRY_SYNC_INTERVAL="${raw}" is not a duration`, { hint: 'write seconds (300) or a number with s, m or h (5m, 1h); 0 turns it off' })
  const ms = Number(m[1]) * UNITS[(m[2] ?? '').toLowerCase()]!
  if (ms === 0) return undefined
  return ms
}

/** Reads the configuration from the environment, with the Run registry's defaults. */
export function configFromEnv(env: NodeJS.ProcessEnv): ServeConfig {
  const port = positiveInt(env, 'PORT', DEFAULTS.port, 0)
  if (port > 65535) throw new WharfError('USAGE', `PORT=${port} is not a TCP port`, { hint: 'use 1-65535, or 0 for any free port' })
  const url = env.REGISTRY_URL?.trim() || undefined
  if (url && !/^https?:\/\/[^\s/]+/.test(url)) {
    throw new WharfError('USAGE', `REGISTRY_URL="${url}" is not an http(s) URL`, { hint: 'e.g. REGISTRY_URL=http://localhost:8080' })
  }
  const syncIntervalMs = parseInterval(env.REGISTRY_SYNC_INTERVAL)
  return {
    port,
    host: env.HOST?.trim() || DEFAULTS.host,
    url: url?.replace(/\/+$/, ''),
    dataDir: path.resolve(env.REGISTRY_DATA_DIR?.trim() || DEFAULTS.dataDir),
    adminToken: env.REGISTRY_ADMIN_TOKEN?.trim() || undefined,
    tokens: parseTokens(env.REGISTRY_TOKENS),
    maxUploadBytes: positiveInt(env, 'REGISTRY_MAX_UPLOAD_MB', DEFAULTS.maxUploadMb) * 1024 * 1024,
    rateLimitPerMin: positiveInt(env, 'REGISTRY_RATE_LIMIT_PER_MIN', DEFAULTS.rateLimitPerMin),
    sandbox: { unsandboxed: unsandboxedOptOut(env.REGISTRY_UNSANDBOXED_TESTS) },
    ...(env.REGISTRY_NAME?.trim() ? { name: env.REGISTRY_NAME.trim() } : {}),
    ...(env.PUBLIC_KEY?.trim() ? { publicKey: env.PUBLIC_KEY.trim() } : {}),
    ...(syncIntervalMs ? { syncIntervalMs } : {}),
  }
}

/** True only for the exact opt-out phrase; any other value is a mistake worth stopping for. */
function unsandboxedOptOut(raw: string | undefined): boolean {
  if (raw === undefined || raw.trim() === '') return false
  if (raw.trim() === UNSANDBOXED_OPT_OUT) return true
  throw new WharfError('USAGE', `REGISTRY_UNSANDBOXED_TESTS="${raw}" is not the opt-out phrase`, {
    hint: `unset it to run uploaded crates under bubblewrap, or set it to ${UNSANDBOXED_OPT_OUT} to run them with the server's rights`,
  })
}
