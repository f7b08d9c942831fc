/** Commands that read a registry over HTTP, a running server or a static host: search, info, list, stats, health. */
import { chooseRegistry, health as remoteHealth, listAll, metadata, search as remoteSearch, stats as remoteStats, versions, type RemoteOptions } from '../client/index.js'
import { WharfError } from '../core/errors.js'
import { parsePackageId } from '../core/names.js'
import { compareVersions } from '../core/versions.js'
import { JSON_OPTION, optionalString, printJson, type Command, type Io, type Values } from './command.js'

const REGISTRY_OPTION = { registry: { type: 'string' } } as const
const REGISTRY_HELP =
  '  --registry URL   the registry, a server or a static host (default: $WHARF_REGISTRY, else\n                   [registry] url in wharf.toml or in $XDG_CONFIG_HOME/wharf/config.toml\n                   (~/.config when unset), else http://localhost:8080)'

function remote(values: Values, io: Io): RemoteOptions {
  return { url: chooseRegistry(optionalString(values, 'registry'), process.cwd(), io.env) }
}

function rows(io: Io, items: { name: string; version: string; description: string }[]): void {
  const width = Math.max(0, ...items.map((p) => `${p.name}@${p.version}`.length))
  for (const p of items) io.stdout(`${`${p.name}@${p.version}`.padEnd(width)}  ${p.description}\n`)
}

export const search: Command = {
  help: `wharf search QUERY [--registry URL] [--limit N] [--json]

Packages whose name, description or keywords hold every word of QUERY, with
their newest version.

${REGISTRY_HELP}
  --limit N        at most N results (default 20)
  --json           print {packages, total}`,
  options: { ...REGISTRY_OPTION, limit: { type: 'string' }, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals }, io) {
    const limit = Number(optionalString(values, 'limit') ?? 20)
    if (!Number.isInteger(limit) || limit < 1) throw new WharfError('USAGE', `--limit ${String(values.limit)} is not a positive whole number`, { hint: 'e.g. --limit 50' })
    const result = await remoteSearch(remote(values, io), positionals[0]!, limit)
    if (values.json) printJson(io, result)
    else {
      rows(io, result.packages)
      io.stdout(`${result.total} package${result.total === 1 ? '' : 's'}${result.total > result.packages.length ? ` (${result.packages.length} shown)` : ''}\n`)
    }
    return 0
  },
}

export const info: Command = {
  help: `wharf info ID[@VERSION] [--registry URL] [--json]

The metadata of one version (default: the one a resolver picks, the newest
release that is not yanked, else the newest prerelease that is not; when all
are yanked, the newest) and the list of versions, the yanked ones marked.

${REGISTRY_HELP}
  --json           print the version's metadata with a "versions" list`,
  options: { ...REGISTRY_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals }, io) {
    const ref = positionals[0]!
    const at = ref.lastIndexOf('@')
    const name = at > 0 ? ref.slice(0, at) : ref
    parsePackageId(name)
    const options = remote(values, io)
    const answer = await versions(options, name)
    const list = answer.versions.slice().sort(compareVersions)
    // A registry's answer is data, not code: only strings count as yanked versions.
    const yanked = new Set(Array.isArray(answer.yanked) ? answer.yanked.filter((v): v is string => typeof v === 'string') : [])
    // The version a resolver picks, as the registry names it; else the newest that is not yanked; else the newest.
    const latest = typeof answer.latest === 'string' && list.includes(answer.latest) ? answer.latest : undefined
    const version = at > 0 ? ref.slice(at + 1) : (latest ?? [...list].reverse().find((v) => !yanked.has(v)) ?? list[list.length - 1])
    if (!version) throw new WharfError('NOT_FOUND', `${name} has no versions`, { hint: 'publish one first' })
    const meta = await metadata(options, name, version)
    if (values.json) printJson(io, { ...meta, versions: list })
    else {
      io.stdout(`${meta.name}@${meta.version}${meta.yanked ? ' (yanked)' : ''}\n`)
      if (meta.description) io.stdout(`  ${meta.description}\n`)
      if (meta.license) io.stdout(`  license     ${meta.license}\n`)
      if (meta.repository) io.stdout(`  repository  ${meta.repository}\n`)
      io.stdout(`  size        ${meta.size} bytes\n  sha256      ${meta.sha256}\n  download    ${meta.download_url}\n`)
      io.stdout(`  published   ${new Date(meta.published_at * 1000).toISOString()}\n  targets     ${meta.targets.join(', ') || '-'}\n`)
      for (const d of meta.dependencies) io.stdout(`  depends on  ${d.name} ${d.version}${d.optional ? ' (optional)' : ''}\n`)
      io.stdout(`  versions    ${list.map((v) => (yanked.has(v) ? `${v} (yanked)` : v)).join(', ')}\n`)
    }
    return 0
  },
}

export const list: Command = {
  help: `wharf list [--registry URL] [--json]

Every package of the registry with its newest version.

${REGISTRY_HELP}
  --json           print a JSON array`,
  options: { ...REGISTRY_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const all = await listAll(remote(values, io))
    if (values.json) printJson(io, all)
    else rows(io, all)
    return 0
  },
}

export const stats: Command = {
  help: `wharf stats [--registry URL] [--json]

${REGISTRY_HELP}
  --json           print {package_count, version_count, download_count, uptime_percent}`,
  options: { ...REGISTRY_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const s = await remoteStats(remote(values, io))
    if (values.json) printJson(io, s)
    else io.stdout(`${s.package_count} packages, ${s.version_count} versions, ${s.download_count} downloads, ${s.uptime_percent}% up\n`)
    return 0
  },
}

export const health: Command = {
  help: `wharf health [--registry URL]

Exit 0 when GET /health answers 2xx, 1 otherwise.

${REGISTRY_HELP}`,
  options: { ...REGISTRY_OPTION },
  async run({ values }, io) {
    const options = remote(values, io)
    const ok = await remoteHealth(options)
    io.stdout(`${ok ? 'ok' : 'not answering'}: ${options.url}\n`)
    return ok ? 0 : 1
  },
}
