/** Cargo as the matrix drives it: JSON messages in, artifacts and first errors out. */
import { commandLine, JSON_CAPTURE, runStep, type StepOutput } from './process.js'
import type { Toolchain } from './toolchain.js'

export interface CargoArtifact {
  packageId: string
  /** Cargo target name and kinds (`lib`, `cdylib`, `bin`, `test`...). */
  target: { name: string; kind: string[] }
  filenames: string[]
  executable: string | null
  /** True for test harness binaries (`cargo test --no-run`). */
  test: boolean
}

export interface CargoError {
  packageId: string | null
  message: string
  rendered: string
}

export interface CargoRun {
  output: StepOutput
  command: string
  ok: boolean
  artifacts: CargoArtifact[]
  /** Errors in the order rustc reported them. */
  errors: CargoError[]
}

export interface CargoContext {
  toolchain: Toolchain
  /** `--target` triple, or null for the host. */
  triple: string | null
  cwd: string
  targetDir: string
  timeoutMs: number
  offline: boolean
}

/** Runs `cargo <subcommand> [--target T] --message-format=json ...`. */
export async function cargo(ctx: CargoContext, subcommand: string, extra: string[] = []): Promise<CargoRun> {
  const args = [subcommand, ...(ctx.triple ? ['--target', ctx.triple] : []), '--message-format=json', ...(ctx.offline ? ['--offline'] : []), ...extra]
  const env = { ...ctx.toolchain.env, CARGO_TARGET_DIR: ctx.targetDir }
  const output = await runStep(ctx.toolchain.cargo, args, { cwd: ctx.cwd, env, timeoutMs: ctx.timeoutMs })
  const artifacts: CargoArtifact[] = []
  const errors: CargoError[] = []
  for (const line of output.stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    let message: Record<string, unknown>
    try {
      message = JSON.parse(line) as Record<string, unknown>
    } catch {
      continue
    }
    // What a build prints (a build script, a proc macro) can reach this stream too: a line not shaped as cargo writes it is no message.
    if (message.reason === 'compiler-artifact') {
      const target = message.target as { name?: unknown; kind?: unknown } | null
      const profile = message.profile as { test?: boolean } | undefined
      if (typeof target?.name !== 'string' || !isStrings(target.kind)) continue
      artifacts.push({
        packageId: String(message.package_id),
        target: { name: target.name, kind: target.kind },
        filenames: isStrings(message.filenames) ? message.filenames : [],
        executable: typeof message.executable === 'string' ? message.executable : null,
        test: profile?.test === true,
      })
    } else if (message.reason === 'compiler-message') {
      const diagnostic = message.message as { level?: unknown; message?: unknown; rendered?: unknown } | null
      if (diagnostic?.level === 'error' && typeof diagnostic.message === 'string') {
        const rendered = typeof diagnostic.rendered === 'string' ? diagnostic.rendered : diagnostic.message
        errors.push({ packageId: typeof message.package_id === 'string' ? message.package_id : null, message: diagnostic.message, rendered })
      }
    }
  }
  return {
    output,
    command: commandLine('cargo', args.filter((a) => a !== '--message-format=json')),
    ok: output.code === 0,
    artifacts,
    errors,
  }
}

const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === 'string')

/** Name and version out of a package id, in cargo's old (`name 1.0.0 (source)`) and new (`source#name@1.0.0`) spellings. */
export function parsePackageId(id: string): { name: string; version: string } | null {
  const old = /^(\S+) (\S+) \(/.exec(id)
  if (old) return { name: old[1]!, version: old[2]! }
  const hash = id.lastIndexOf('#')
  if (hash < 0) return null
  const fragment = id.slice(hash + 1)
  const at = fragment.lastIndexOf('@')
  if (at >= 0) return { name: fragment.slice(0, at), version: fragment.slice(at + 1) }
  // `path+file:///x/foo#0.1.0`: the name is the last path segment.
  const url = id.slice(0, hash)
  return { name: url.slice(url.lastIndexOf('/') + 1), version: fragment }
}

/** The crate cargo names in `could not compile `x`` or `failed to run custom build command for `x v1``, first one first. */
export function firstCargoFailure(stderr: string): { name: string; version: string | null; line: string } | null {
  for (const line of stderr.split('\n')) {
    const compile = /^error: could not compile `([^`]+)`/.exec(line)
    if (compile) return { name: compile[1]!, version: null, line }
    const build = /^error: failed to run custom build command for `([^ `]+)(?: v([^`]+))?`/.exec(line)
    if (build) return { name: build[1]!, version: build[2] ?? null, line }
  }
  return null
}

/** The first line of cargo's own complaint, for failures that are not rustc's (a bad manifest, a missing dependency). */
export function firstErrorLine(stderr: string): string {
  const line = stderr.split('\n').find((l) => l.startsWith('error'))
  return (line ?? stderr.trim().split('\n')[0] ?? '').replace(/^error(\[E\d+\])?: /, '')
}

export interface CargoPackage {
  id: string
  name: string
  version: string
  links: string | null
  manifestPath: string
  description: string | null
  license: string | null
  licenseFile: string | null
  repository: string | null
  homepage: string | null
  documentation: string | null
  readme: string | null
  keywords: string[]
  categories: string[]
  metadata: Record<string, unknown> | null
  targets: { name: string; kind: string[]; crateTypes: string[] }[]
}

export interface CargoMetadata {
  root: CargoPackage
  packages: Map<string, CargoPackage>
  /** Resolved graph for the platform asked for: package id to its dependencies' ids and its enabled features. */
  nodes: Map<string, { deps: string[]; features: string[] }>
  workspaceRoot: string
}

/** `cargo metadata` filtered to one platform; null with the reason when cargo cannot read the manifest. */
export async function cargoMetadata(ctx: CargoContext): Promise<{ metadata: CargoMetadata | null; error: string | null }> {
  const args = ['metadata', '--format-version', '1', ...(ctx.triple ? ['--filter-platform', ctx.triple] : []), ...(ctx.offline ? ['--offline'] : [])]
  const out = await runStep(ctx.toolchain.cargo, args, { cwd: ctx.cwd, env: { ...ctx.toolchain.env, CARGO_TARGET_DIR: ctx.targetDir }, timeoutMs: ctx.timeoutMs, captureBytes: JSON_CAPTURE })
  if (out.code !== 0) return { metadata: null, error: firstErrorLine(out.stderr) }
  if (out.stdoutCut) return { metadata: null, error: `cargo metadata printed over ${JSON_CAPTURE / 1024 / 1024} MiB, more than a crate's description takes (a huge [package.metadata] table?)` }
  let raw: {
    packages: Record<string, unknown>[]
    resolve: { root: string | null; nodes: { id: string; dependencies: string[]; features: string[] }[] } | null
    workspace_members: string[]
    workspace_root: string
  }
  try {
    raw = JSON.parse(out.stdout)
  } catch (e) {
    return { metadata: null, error: `cargo metadata printed no JSON: ${(e as Error).message}` }
  }
  const packages = new Map<string, CargoPackage>()
  for (const p of raw.packages) {
    const pkg: CargoPackage = {
      id: String(p.id),
      name: String(p.name),
      version: String(p.version),
      links: (p.links as string | null) ?? null,
      manifestPath: String(p.manifest_path),
      description: (p.description as string | null) ?? null,
      license: (p.license as string | null) ?? null,
      licenseFile: (p.license_file as string | null) ?? null,
      repository: (p.repository as string | null) ?? null,
      homepage: (p.homepage as string | null) ?? null,
      documentation: (p.documentation as string | null) ?? null,
      readme: (p.readme as string | null) ?? null,
      keywords: (p.keywords as string[]) ?? [],
      categories: (p.categories as string[]) ?? [],
      metadata: (p.metadata as Record<string, unknown> | null) ?? null,
      targets: ((p.targets as { name: string; kind: string[]; crate_types: string[] }[]) ?? []).map((t) => ({ name: t.name, kind: t.kind, crateTypes: t.crate_types })),
    }
    packages.set(pkg.id, pkg)
  }
  const nodes = new Map<string, { deps: string[]; features: string[] }>()
  for (const node of raw.resolve?.nodes ?? []) nodes.set(node.id, { deps: node.dependencies, features: node.features })
  // The package whose manifest is in cwd: the resolve root for a single crate, else the member at cwd.
  const rootId = raw.resolve?.root ?? raw.workspace_members.find((id) => packages.get(id)?.manifestPath === `${ctx.cwd}/Cargo.toml`) ?? raw.workspace_members[0]
  const root = rootId ? packages.get(rootId) : undefined
  if (!root) return { metadata: null, error: 'cargo metadata names no root package' }
  return { metadata: { root, packages, nodes, workspaceRoot: raw.workspace_root }, error: null }
}

/** The shortest path of package ids from the root to the first package named `name` (breadth-first, as `cargo tree -i` would show it). */
export function pathTo(metadata: CargoMetadata, name: string): string[] | null {
  const start = metadata.root.id
  const previous = new Map<string, string | null>([[start, null]])
  const queue = [start]
  while (queue.length > 0) {
    const id = queue.shift()!
    if (metadata.packages.get(id)?.name === name) {
      const path: string[] = []
      for (let at: string | null = id; at !== null; at = previous.get(at) ?? null) path.unshift(at)
      return path
    }
    for (const dep of metadata.nodes.get(id)?.deps ?? []) {
      if (!previous.has(dep)) {
        previous.set(dep, id)
        queue.push(dep)
      }
    }
  }
  return null
}
