/** Proposals: one commit on a branch off main that adds files, as a pull request would. */
import { stableJson } from '../core/canonical.js'
import { WharfError } from '../core/errors.js'
import { namespacePath, packageDir } from '../core/layout.js'
import { parsePackageId, type PackageRef } from '../core/names.js'
import { schemaErrors, type SchemaName } from '../core/schemas.js'
import { parsePublicKey, keyId } from '../core/keys.js'
import { namespaceFile } from '../core/records.js'
import type { Dependency, Owner } from '../core/types.js'
import { checkRange, versionKey } from '../core/versions.js'
import { listDir, MAIN, readJsonAt, resolveCommit, setBranch, writeCommitWith, type Repo } from '../git/index.js'

export interface Proposal {
  branch: string
  base: string
  head: string
}

/** Commits `files` on `branch`, whose parent is the tip of main. */
export async function propose(
  repo: Repo,
  branch: string,
  files: { path: string; json: object; schema: SchemaName }[],
  message: string,
  author: string,
): Promise<Proposal> {
  for (const file of files) {
    const problems = schemaErrors(file.schema, file.json)
    if (problems.length) throw new WharfError('INVALID_INPUT', `${file.path} would be invalid: ${problems.join('; ')}`, { hint: 'check the values passed on the command line' })
  }
  const base = await resolveCommit(repo, MAIN)
  const head = await writeCommitWith(repo, {
    parents: [base],
    files: files.map((f) => ({ path: f.path, content: stableJson(f.json) })),
    message,
    author: { login: author },
  })
  await setBranch(repo, branch, head)
  return { branch, base, head }
}

/** `--owner LOGIN`, `--owner LOGIN:ID` or `--owner @org/team`. */
export function parseOwner(text: string): Owner {
  if (text.startsWith('@')) return { team: text }
  const [login, id] = text.split(':')
  if (!login) throw new WharfError('USAGE', `--owner "${text}" is empty`, { hint: 'write --owner LOGIN, LOGIN:NUMERIC-ID or @org/team' })
  if (id === undefined) return { login }
  if (!/^[1-9]\d*$/.test(id)) throw new WharfError('USAGE', `--owner "${text}": "${id}" is not a numeric account id`, { hint: 'write --owner LOGIN:NUMERIC-ID' })
  return { login, id: Number(id) }
}

export interface NamespaceProposalOptions {
  namespace: string
  owners: Owner[]
  /** Public key text: SPKI PEM (a .pub file) or raw base64. */
  publicKey: string
  author?: string
  now?: Date
}

export async function proposeNamespace(repo: Repo, options: NamespaceProposalOptions): Promise<Proposal> {
  const ns = options.namespace
  parsePackageId(`${ns}:x`)
  const file = namespacePath(ns)
  if (await readJsonAt(repo, await resolveCommit(repo, MAIN), file)) {
    throw new WharfError('NAMESPACE_EXISTS', `namespace "${ns}" already exists`, { hint: `ask an owner in ${file} to add you, or choose another name` })
  }
  if (options.owners.length === 0) throw new WharfError('USAGE', 'a namespace needs at least one --owner', { hint: 'pass --owner LOGIN' })
  const firstLogin = options.owners.map((o) => ('login' in o ? o.login : undefined)).find(Boolean)
  const author = options.author ?? firstLogin
  if (!author) throw new WharfError('USAGE', 'no author for the claim', { hint: 'pass --author LOGIN' })
  const publicKey = parsePublicKey(options.publicKey)
  const namespace = namespaceFile(ns, options.owners, { id: keyId(publicKey), publicKey }, options.now ?? new Date())
  return propose(repo, `namespace/${ns}`, [{ path: file, json: namespace, schema: 'namespace' }], `Claim namespace ${ns}`, author)
}

/** `--dependency ID@RANGE`. */
export function parseDependency(text: string, optional = false): Dependency {
  const at = text.indexOf('@')
  if (at < 0) throw new WharfError('USAGE', `--dependency "${text}" has no version range`, { hint: 'write --dependency ns:name@^1.0.0' })
  const name = text.slice(0, at)
  const req = text.slice(at + 1)
  parsePackageId(name)
  const problem = checkRange(req)
  if (problem) throw new WharfError('USAGE', `--dependency ${text}: ${problem}`, { hint: 'use a SemVer range such as ^1.0.0' })
  return { name, req, optional }
}

/** Throws when main already holds `ref` (also across build metadata). */
export async function assertNewVersion(repo: Repo, ref: PackageRef): Promise<void> {
  const id = `${ref.namespace}:${ref.name}`
  const entries = (await listDir(repo, await resolveCommit(repo, MAIN), packageDir(id))) ?? []
  const clash = entries.find((e) => e.name.endsWith('.json') && !e.name.endsWith('.yank.json') && versionKey(e.name.slice(0, -5)) === versionKey(ref.version))
  if (clash) {
    throw new WharfError('VERSION_EXISTS', `${id}@${clash.name.slice(0, -5)} is already published`, { hint: 'versions are immutable; bump the version' })
  }
}
