/** `wharf install`: packages from a registry into a directory, every byte verified, pinned in wharf.lock. */
import path from 'node:path'
import { chooseRegistry, DEFAULT_INSTALL_DIR, defaultCacheDir, install as runInstall, LOCKFILE, loadConfig, settingsFor, type InstallProgress } from '../client/index.js'
import { JSON_OPTION, list, optionalString, printJson, type Command } from './command.js'
import { createProgress, type ProgressEvent } from './progress.js'

const mb = (bytes: number) => (bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} kB`)

/** The progress line's words for where an install is. */
function progressEvent(p: InstallProgress): ProgressEvent {
  const packages = `${p.packages} package${p.packages === 1 ? '' : 's'}`
  if (p.phase === 'resolve') return { phase: 'resolving', detail: `${packages} verified` }
  if (p.phase === 'download') return { phase: 'downloading', detail: `${mb(p.bytes)} of ${mb(p.totalBytes)} (${packages})` }
  return { phase: 'writing', detail: packages }
}

export const install: Command = {
  help: `wharf install [ID[@RANGE]...] [--registry URL] [--mirror URL]... [--dir DIR] [--frozen] [--offline] [--json]

Resolves each package and its dependencies (the highest versions that satisfy
every requirement; a yanked version only when ${LOCKFILE} already pins it),
downloads them, and verifies every byte: the registry's signed snapshot (its
key, its expiry, never older than the newest seen), each file against the
snapshot, each record's signature against the keys its namespace lists, and
each artifact's sha256 and size against its record. Nothing is written unless
every check passes. Artifacts land in DIR as <namespace>-<name>-<version>.wasm
(.crate for crates); ${LOCKFILE} records exact versions and digests.

With no ID, installs exactly what ${LOCKFILE} says, from the registry it was
resolved against (another is refused: name packages to resolve them again).
RANGE is a version requirement: ^1.2, ~1.2.3, >=1 <2, or an exact version;
without one, the newest release, recorded as ^VERSION.

  --registry URL   the registry (default: $WHARF_REGISTRY, else [registry] url in
                   wharf.toml or in $XDG_CONFIG_HOME/wharf/config.toml (~/.config when
                   unset), else http://localhost:8080)
  --mirror URL     a mirror tried when the registry fails; repeatable, tried in
                   order before the mirrors the config lists; verified the same way
  --dir DIR        where artifacts go (default: [install] dir, else ./${DEFAULT_INSTALL_DIR})
  --frozen         fail instead of changing ${LOCKFILE}
  --offline        use the cache alone ($XDG_CACHE_HOME/wharf, else ~/.cache/wharf)
  --json           print what was installed as JSON

The registry's key is taken from the config ([registry] key = "...") when pinned
there, else trusted on first use and kept in the cache, with a note on stderr.`,
  options: { registry: { type: 'string' }, mirror: { type: 'string', multiple: true }, dir: { type: 'string' }, frozen: { type: 'boolean' }, offline: { type: 'boolean' }, ...JSON_OPTION },
  positionals: [0, 1000],
  async run({ values, positionals }, io) {
    const cwd = process.cwd()
    const config = loadConfig(cwd, io.env)
    const registry = chooseRegistry(optionalString(values, 'registry'), cwd, io.env)
    const settings = settingsFor(config, registry)
    const dir = optionalString(values, 'dir') ?? config.installDir ?? path.join(cwd, DEFAULT_INSTALL_DIR)
    const progress = createProgress(io, values, 'install')
    const report = progress.report
    const result = await runInstall({
      registry,
      mirrors: [...list(values, 'mirror'), ...settings.mirrors],
      ...(settings.keys.length ? { keys: settings.keys } : {}),
      requests: positionals,
      dir,
      lockfile: path.join(cwd, LOCKFILE),
      frozen: Boolean(values.frozen),
      offline: Boolean(values.offline),
      cacheDir: defaultCacheDir(io.env),
      note: (message) => {
        progress.end()
        io.stderr(`${message}\n`)
      },
      ...(report ? { onProgress: (p: InstallProgress) => report(progressEvent(p)) } : {}),
    }).finally(() => progress.end())

    if (values.json) {
      printJson(io, {
        registry: result.registry,
        source: result.source,
        commit: result.commit,
        dir: result.dir,
        lockfile: result.lockfile,
        lock_changed: result.lockChanged,
        packages: result.packages,
        removed: result.removed,
        requests: result.requests,
        bytes: result.bytes,
      })
      return 0
    }
    const shownDir = path.relative(cwd, result.dir) || '.'
    for (const p of result.packages) if (p.status === 'written') io.stdout(`installed ${p.name}@${p.version}  ${path.join(shownDir, p.file)}\n`)
    for (const file of result.removed) io.stdout(`removed   ${path.join(shownDir, file)}\n`)
    const written = result.packages.filter((p) => p.status === 'written').length
    const via = result.source === result.registry.replace(/\/+$/, '') ? '' : ` (via ${result.source})`
    io.stdout(
      `${result.packages.length} package${result.packages.length === 1 ? '' : 's'} in ${shownDir} (${written} written, ${result.packages.length - written} unchanged) from ${result.registry}${via}` +
        `${result.lockChanged ? `; ${LOCKFILE} updated` : ''}\n`,
    )
    return 0
  },
}
