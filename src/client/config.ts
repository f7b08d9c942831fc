/**
 * Client configuration: `wharf.toml` in the project, then
 * `$XDG_CONFIG_HOME/wharf/config.toml` (else `~/.config/wharf/config.toml`);
 * the first file that sets a field wins.
 *
 *   [registry]
 *   url = "https://registry.example"
 *   key = "<base64 Ed25519 public key>"     # or keys = [...]: pins the registry's key
 *   mirrors = ["https://mirror.example"]
 *
 *   [install]
 *   dir = "wasm_components"
 *
 * A pinned key and mirrors belong to the URL of the file that names them: a
 * `--registry` pointing elsewhere does not inherit them.
 *
 * Tokens live apart, in `credentials.toml` next to config.toml, as cargo
 * keeps them: a file only its owner may read (a looser mode is refused).
 *
 *   [registries."https://registry.example"]
 *   token = "..."
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parse as parseToml } from 'smol-toml'
import type { TrustedKey } from '../core/dsse.js'
import { WharfError } from '../core/errors.js'
import { keyId, parsePublicKey } from '../core/keys.js'
import { normalizeRegistryUrl } from './cache.js'
import { DEFAULT_REGISTRY } from './remote.js'

export const PROJECT_CONFIG = 'wharf.toml'

export interface RegistryConfig {
  url: string
  mirrors: string[]
  keys: TrustedKey[]
  /** The file that set them. */
  file: string
}

export interface ClientConfig {
  registry?: RegistryConfig
  installDir?: string
  /** Files read, nearest first. */
  files: string[]
}

export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CONFIG_HOME
  return path.join(xdg && path.isAbsolute(xdg) ? xdg : path.join(env.HOME || os.homedir(), '.config'), 'wharf')
}

function readToml(file: string): Record<string, unknown> | undefined {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new WharfError('CONFIG', `cannot read ${file}: ${(e as Error).message}`, { hint: 'check its permissions' })
  }
  try {
    return parseToml(text) as Record<string, unknown>
  } catch (e) {
    throw new WharfError('CONFIG', `${file} is not valid TOML: ${(e as Error).message.split('\n')[0]}`, { hint: 'fix the line it names' })
  }
}

const table = (value: unknown): Record<string, unknown> | undefined => (value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined)

function stringList(value: unknown, field: string, file: string): string[] {
  if (value === undefined) return []
  if (typeof value === 'string') return [value]
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[]
  throw new WharfError('CONFIG', `${file}: ${field} must be a string or a list of strings`, { hint: `e.g. ${field} = ["..."]` })
}

function checkUrl(url: string, field: string, file: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url.replace(/\/+$/, '')
  } catch {
    // reported below
  }
  throw new WharfError('CONFIG', `${file}: ${field} "${url}" is not an http(s) URL`, { hint: 'e.g. https://registry.example' })
}

function registryFrom(doc: Record<string, unknown>, file: string): RegistryConfig | undefined {
  const reg = table(doc.registry)
  if (!reg) return undefined
  if (typeof reg.url !== 'string') throw new WharfError('CONFIG', `${file}: [registry] needs url`, { hint: 'url = "https://registry.example"' })
  const keys = [...stringList(reg.key, 'key', file), ...stringList(reg.keys, 'keys', file)].map((text) => {
    const publicKey = parsePublicKey(text)
    return { id: keyId(publicKey), public_key: publicKey }
  })
  return {
    url: checkUrl(reg.url, 'registry.url', file),
    mirrors: stringList(reg.mirrors, 'mirrors', file).map((m) => checkUrl(m, 'mirrors', file)),
    keys,
    file,
  }
}

/** The configuration that applies in `cwd`: the project's wharf.toml over the user's config.toml. */
export function loadConfig(cwd: string, env: NodeJS.ProcessEnv = process.env): ClientConfig {
  const files = [path.join(cwd, PROJECT_CONFIG), path.join(userConfigDir(env), 'config.toml')]
  const config: ClientConfig = { files: [] }
  for (const file of files) {
    const doc = readToml(file)
    if (!doc) continue
    config.files.push(file)
    config.registry ??= registryFrom(doc, file)
    const dir = table(doc.install)?.dir
    if (dir !== undefined && typeof dir !== 'string') throw new WharfError('CONFIG', `${file}: [install] dir must be a string`, { hint: 'dir = "wasm_components"' })
    // A relative dir is relative to the file that sets it.
    if (dir !== undefined && config.installDir === undefined) config.installDir = path.resolve(path.dirname(file), dir)
  }
  return config
}

/** The registry a command talks to: the one given, else $WHARF_REGISTRY, else the configured one, else the local default. */
export function chooseRegistry(given: string | undefined, cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return given || env.WHARF_REGISTRY || loadConfig(cwd, env).registry?.url || DEFAULT_REGISTRY
}

/** The mirrors and pinned keys that apply to `url`: those of the configured registry when it is the same one. */
export function settingsFor(config: ClientConfig, url: string): { mirrors: string[]; keys: TrustedKey[] } {
  const reg = config.registry
  if (!reg || normalizeRegistryUrl(reg.url) !== normalizeRegistryUrl(url)) return { mirrors: [], keys: [] }
  return { mirrors: reg.mirrors, keys: reg.keys }
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(userConfigDir(env), 'credentials.toml')
}

/**
 * The token stored for `url` in the credentials file, or undefined. A file
 * that others may read or write is refused: the token in it is not secret.
 */
export function readToken(url: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = credentialsFile(env)
  let stat: fs.Stats
  try {
    stat = fs.statSync(file)
  } catch {
    return undefined
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new WharfError('CREDENTIALS_EXPOSED', `${file} can be read by others (mode ${(stat.mode & 0o777).toString(8).padStart(3, '0')}), so its tokens are not used`, {
      hint: `run chmod 600 ${file}, and replace its tokens if others could have read them`,
    })
  }
  const doc = readToml(file) ?? {}
  const registries = table(doc.registries) ?? {}
  const wanted = normalizeRegistryUrl(url)
  for (const [key, value] of Object.entries(registries)) {
    const token = table(value)?.token
    if (normalizeRegistryUrl(key) === wanted && typeof token === 'string' && token !== '') return token
  }
  return undefined
}

/** Stores `token` for `url` in the credentials file, created with mode 0600. */
export function writeToken(url: string, token: string, env: NodeJS.ProcessEnv = process.env): string {
  const file = credentialsFile(env)
  const doc = readToml(file) ?? {}
  const registries = { ...(table(doc.registries) ?? {}) }
  registries[normalizeRegistryUrl(url)] = { token }
  const lines = ['# wharf registry tokens: keep this file private (mode 0600).']
  for (const [key, value] of Object.entries(registries).sort(([a], [b]) => (a < b ? -1 : 1))) {
    const tokenValue = table(value)?.token
    if (typeof tokenValue === 'string') lines.push('', `[registries.${JSON.stringify(key)}]`, `token = ${JSON.stringify(tokenValue)}`)
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const temp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(temp, `${lines.join('\n')}\n`, { mode: 0o600 })
  fs.chmodSync(temp, 0o600)
  fs.renameSync(temp, file)
  return file
}
