/**
 * Bubblewrap (`bwrap`, Debian's `bubblewrap`) around code nobody vouched for:
 * the build scripts, proc macros and tests of an uploaded crate, and the
 * runtimes that load an uploaded artifact.
 *
 * Inside, the sandbox sees a read-only system (`/usr` and its `/bin`, `/lib*`
 * links, the few `/etc` files a linker reads), the toolchains read-only
 * (rustup's proxies and toolchains under neutral paths), node and wharf's own
 * code read-only, the input read-only under `/input`, and one writable,
 * size-capped `/tmp` where the crate is copied and built. It has no network,
 * its own pid, ipc and uts namespaces, an unprivileged uid with no
 * capabilities, a cleared environment, and resource limits (prlimit) on
 * memory, file size, open files, processes and core dumps. The registry's
 * data dir is never bound, and a tmpfs covers it where it lies under a bound
 * directory.
 */
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** What the sandbox allows one run, whatever the crate asks for. */
export const SANDBOX_LIMITS = {
  /** RLIMIT_DATA of each process: heap and private writable mappings (what a runaway allocation grows). */
  memoryBytes: 4 * 1024 ** 3,
  /** RLIMIT_FSIZE: the largest file a process may write. */
  fileBytes: 1024 ** 3,
  /** The size of the writable /tmp (crate copy, target dir, caches). */
  scratchBytes: 4 * 1024 ** 3,
  /** RLIMIT_NPROC (the kernel does not apply it to root's processes: run the server as an ordinary user). */
  processes: 512,
  /** RLIMIT_NOFILE. */
  openFiles: 4096,
} as const

/** Where things appear inside the sandbox. */
export const SANDBOX_PATHS = {
  input: '/input',
  scratch: '/tmp',
  cargoHome: '/tmp/cargo',
  rustupHome: '/opt/rustup',
  wharf: '/opt/wharf',
  node: '/opt/node/bin/node',
} as const

/** The parts of wharf a matrix run loads: its code (sources and the bundle `npm ci` builds), schemas, manifest and dependencies (not `.git`, not a data dir beside them). */
const WHARF_PARTS = ['package.json', 'tsconfig.json', 'src', 'dist', 'schemas', 'node_modules']

/** The root of this wharf checkout or install (where package.json is). */
export const WHARF_ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '')

export interface SandboxOptions {
  /** The bwrap binary (default `bwrap` on PATH). */
  bwrap: string
  /** Host paths that must stay invisible even where they lie under a bound directory (the registry's data dir). */
  hide: readonly string[]
}

export type SandboxProbe = { ok: true; version: string } | { ok: false; reason: string }

/** The command that starts `argv` (its first element a host path of node) inside the sandbox. */
export interface SandboxCommand {
  file: string
  args: string[]
}

interface Mount {
  host: string
  inside: string
}

function exists(p: string): boolean {
  try {
    fs.statSync(p)
    return true
  } catch {
    return false
  }
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p)
  } catch {
    return path.resolve(p)
  }
}

/** rustup's proxies and toolchains, when the host has them. */
function rustupHomes(env: NodeJS.ProcessEnv): { bin?: string; rustup?: string } {
  const home = env.HOME ?? os.homedir()
  const bin = path.join(env.CARGO_HOME ?? path.join(home, '.cargo'), 'bin')
  const rustup = env.RUSTUP_HOME ?? path.join(home, '.rustup')
  return { ...(exists(bin) ? { bin } : {}), ...(exists(rustup) ? { rustup } : {}) }
}

/** The read-only system: `/usr`, the top-level links into it (or the directories, on a system without merged /usr), and /etc files the toolchain reads. */
function systemArgs(): string[] {
  const args = ['--ro-bind', '/usr', '/usr']
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let stat: fs.Stats
    try {
      stat = fs.lstatSync(dir)
    } catch {
      continue
    }
    if (stat.isSymbolicLink()) args.push('--symlink', fs.readlinkSync(dir), dir)
    else if (stat.isDirectory()) args.push('--ro-bind', dir, dir)
  }
  // cc is an alternatives link; the dynamic linker reads its cache. Nothing else of /etc (accounts, keys, hosts) is there.
  for (const file of ['/etc/alternatives', '/etc/ld.so.cache', '/etc/ld.so.conf', '/etc/ld.so.conf.d', '/etc/localtime']) args.push('--ro-bind-try', file, file)
  return args
}

/**
 * The bwrap arguments and the sandbox's own paths for a run of `node
 * script args` on `input` (a file or directory, bound read-only under /input).
 */
export function sandboxCommand(options: SandboxOptions, run: { script: string; loader?: string; input: string; args: string[] }, env: NodeJS.ProcessEnv = process.env): SandboxCommand {
  const mounts: Mount[] = []
  const bound: string[] = []
  const bind = (host: string, inside: string) => {
    mounts.push({ host, inside })
    bound.push('--ro-bind', host, inside)
  }
  const toolchains = rustupHomes(env)
  const node = realpath(process.execPath)
  const nodeInside = node.startsWith('/usr/') ? node : SANDBOX_PATHS.node
  if (nodeInside !== node) bind(node, nodeInside)
  for (const part of WHARF_PARTS) {
    const host = path.join(WHARF_ROOT, part)
    if (exists(host)) bind(host, path.join(SANDBOX_PATHS.wharf, part))
  }
  if (toolchains.rustup) bind(toolchains.rustup, SANDBOX_PATHS.rustupHome)
  const inputInside = path.join(SANDBOX_PATHS.input, path.basename(run.input))
  bind(path.resolve(run.input), inputInside)
  // The scratch tmpfs comes first: rustup's proxies are bound inside it, as CARGO_HOME's bin.
  const scratch = ['--size', String(SANDBOX_LIMITS.scratchBytes), '--perms', '0700', '--tmpfs', SANDBOX_PATHS.scratch]
  if (toolchains.bin) bind(toolchains.bin, path.join(SANDBOX_PATHS.cargoHome, 'bin'))
  // A hidden directory under a bound one is covered by an empty tmpfs; one under no bound directory is simply absent.
  const covers: string[] = []
  for (const hidden of options.hide.map(realpath)) {
    for (const m of mounts) {
      const host = realpath(m.host)
      if (hidden === host || hidden.startsWith(`${host}${path.sep}`)) covers.push('--tmpfs', path.join(m.inside, path.relative(host, hidden)))
    }
  }
  const inside = (host: string) => {
    for (const m of mounts) if (host === m.host || host.startsWith(`${m.host}${path.sep}`)) return path.join(m.inside, path.relative(m.host, host))
    throw new Error(`${host} is not bound into the sandbox`)
  }
  const setenv = {
    PATH: [path.join(SANDBOX_PATHS.cargoHome, 'bin'), '/usr/local/bin', '/usr/bin', '/bin'].join(':'),
    HOME: path.join(SANDBOX_PATHS.scratch, 'home'),
    TMPDIR: SANDBOX_PATHS.scratch,
    LANG: 'C.UTF-8',
    CARGO_HOME: SANDBOX_PATHS.cargoHome,
    ...(toolchains.rustup ? { RUSTUP_HOME: SANDBOX_PATHS.rustupHome } : {}),
  }
  const args = [
    ...ISOLATION,
    '--hostname',
    'sandbox',
    ...systemArgs(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    ...scratch,
    ...bound,
    ...covers,
    '--clearenv',
    ...Object.entries(setenv).flatMap(([k, v]) => ['--setenv', k, v]),
    '--chdir',
    SANDBOX_PATHS.scratch,
    '--',
    ...limitArgs(),
    nodeInside,
    ...(run.loader ? ['--import', inside(run.loader)] : []),
    inside(run.script),
    inputInside,
    ...run.args,
  ]
  return { file: options.bwrap, args }
}

/** Every namespace of its own (no network), tied to its parent, its own session, nobody without capabilities. */
const ISOLATION = ['--unshare-all', '--die-with-parent', '--new-session', '--cap-drop', 'ALL', '--uid', '65534', '--gid', '65534'] as const

/** prlimit in front of the command: the limits hold for it and everything it starts. */
function limitArgs(): string[] {
  const l = SANDBOX_LIMITS
  return ['/usr/bin/prlimit', `--data=${l.memoryBytes}`, `--fsize=${l.fileBytes}`, `--nproc=${l.processes}`, `--nofile=${l.openFiles}`, '--core=0', '--']
}

/**
 * Whether bwrap can make the sandbox on this machine: runs `true` in one
 * with the same namespaces, uid and limits a run gets. A missing bwrap, user
 * namespaces turned off, or a missing prlimit each give a reason.
 */
export function probeSandbox(bwrap: string): Promise<SandboxProbe> {
  const version = spawnSync(bwrap, ['--version'], { encoding: 'utf8', timeout: 10_000 })
  if (version.error || version.status !== 0) {
    return Promise.resolve({ ok: false, reason: `${bwrap} cannot run (${version.error?.message ?? version.stderr.trim()})` })
  }
  const args = [
    ...ISOLATION,
    ...systemArgs(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--size',
    String(1024 * 1024),
    '--tmpfs',
    '/tmp',
    '--clearenv',
    '--',
    ...limitArgs(),
    '/usr/bin/true',
  ]
  return new Promise((resolve) => {
    const child = spawn(bwrap, args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', (e) => resolve({ ok: false, reason: `${bwrap} cannot run (${e.message})` }))
    child.on('close', (code) =>
      resolve(code === 0 ? { ok: true, version: version.stdout.trim() } : { ok: false, reason: `${bwrap} cannot make a sandbox here: ${stderr.trim() || `exit ${code}`}` }),
    )
  })
}

/** The environment a run without a sandbox gets: the same minimal set, with the host's toolchain homes. */
export function minimalEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const home = env.HOME ?? os.homedir()
  const keep = ['PATH', 'LANG', 'CARGO_HOME', 'RUSTUP_HOME', 'TMPDIR']
  return { HOME: home, ...Object.fromEntries(keep.filter((k) => env[k] !== undefined).map((k) => [k, env[k]])) }
}

/**
 * Host paths a report must not show, longest first, each with what it reads
 * as instead: wharf's own directory, the toolchain homes, the home directory,
 * the temp dir and any hidden path. Inside the sandbox they do not occur (it
 * sees neutral paths); a run without one would show them.
 */
export function hostPaths(hide: readonly string[], env: NodeJS.ProcessEnv = process.env): [string, string][] {
  const home = env.HOME ?? os.homedir()
  const toolchains = rustupHomes(env)
  const pairs: [string, string][] = [
    [WHARF_ROOT, SANDBOX_PATHS.wharf],
    ...(toolchains.rustup ? [[toolchains.rustup, SANDBOX_PATHS.rustupHome] as [string, string]] : []),
    ...(toolchains.bin ? [[toolchains.bin, path.join(SANDBOX_PATHS.cargoHome, 'bin')] as [string, string]] : []),
    ...hide.map((h) => [path.resolve(h), '<hidden>'] as [string, string]),
    [os.tmpdir(), SANDBOX_PATHS.scratch],
    [home, '~'],
  ]
  return pairs.filter(([p]) => p.length > 1).sort((a, b) => b[0].length - a[0].length)
}

/** Every string in `value` with each host path replaced by its neutral name. */
export function scrubPaths<T>(value: T, paths: readonly [string, string][]): T {
  // A prefix counts only as a whole path: /root is replaced in /root/x, not in /rootfs.
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const patterns = paths.map(([host, neutral]) => [new RegExp(`${escape(host)}(?=$|[^\\w.+-])`, 'g'), neutral] as const)
  const scrub = (text: string) => patterns.reduce((t, [re, neutral]) => t.replace(re, neutral), text)
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return scrub(v)
    if (Array.isArray(v)) return v.map(walk)
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [scrub(k), walk(x)]))
    return v
  }
  return walk(value) as T
}
