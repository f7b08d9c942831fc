/** Version records and yank notices: new versions only, from owners, signed with a key held at base, with real dependencies. */
import { PAYLOAD_TYPES, verifyDocument } from '../../core/dsse.js'
import { PACKAGES_DIR, packageDir, recordPath } from '../../core/layout.js'
import { checkName, crateToPackageName } from '../../core/names.js'
import type { VersionRecord, YankNotice } from '../../core/types.js'
import { checkRange, satisfies, versionKey } from '../../core/versions.js'
import { listDir, readJsonAt } from '../../git/index.js'
import { RULES, type CheckContext, type Subject } from '../types.js'
import { importedNamespace } from './federation.js'

/** Versions with a record in `commit`, for one package. */
async function versionsAt(ctx: CheckContext, commit: string, id: string): Promise<string[]> {
  const entries = (await listDir(ctx.repo, commit, packageDir(id))) ?? []
  return entries.filter((e) => e.type === 'blob' && e.name.endsWith('.json') && !e.name.endsWith('.yank.json')).map((e) => e.name.slice(0, -'.json'.length))
}

export async function checkRecords(ctx: CheckContext): Promise<void> {
  const added = new Map<string, string>() // `${name}@${versionKey}` -> file, to catch duplicates within one submission
  for (const subject of ctx.subjects) {
    if (subject.skip || subject.change.status !== 'added') continue
    if (subject.where.kind === 'record') await checkRecord(ctx, subject, added)
    if (subject.where.kind === 'yank') await checkYank(ctx, subject)
  }
}

/**
 * The namespace whose keys verify the file: for a delegated namespace the
 * peer's, when the submission imports from it; else the namespace at base,
 * when the author owns it. Reports why not otherwise.
 */
async function ownedNamespace(ctx: CheckContext, subject: Subject, name: string) {
  const file = subject.change.path
  const ns = name.slice(0, name.indexOf(':'))
  const imported = await importedNamespace(ctx, subject, ns)
  if (imported !== undefined) return imported ?? undefined
  const namespace = await ctx.namespaceAtBase(ns)
  if (!namespace) {
    ctx.report({
      rule: RULES.namespaceUnknown,
      file,
      message: `namespace "${ns}" does not exist in the registry`,
      hint: `claim it first (wharf namespace add ${ns} --owner LOGIN --key KEY.pub), merge the claim, then publish`,
    })
    return undefined
  }
  if (!(await ctx.owns(namespace.owners))) {
    ctx.report({
      rule: RULES.notOwner,
      file,
      message: `${ctx.author.login} is not an owner of namespace "${ns}"`,
      hint: `submit from an owner's account, or ask an owner to add you to index/namespaces/${ns}.json`,
    })
    return undefined
  }
  return namespace
}

async function checkRecord(ctx: CheckContext, subject: Subject, added: Map<string, string>): Promise<void> {
  const record = subject.json as VersionRecord
  const file = subject.change.path
  const key = `${record.name}@${versionKey(record.version)}`
  const versions = await versionsAt(ctx, ctx.base, record.name)
  const clash = versions.find((v) => versionKey(v) === versionKey(record.version))
  const twin = added.get(key)
  if (clash !== undefined || twin) {
    ctx.report({
      rule: RULES.versionExists,
      file,
      message:
        clash !== undefined
          ? `${record.name}@${clash} is already published${clash === record.version ? '' : ' (versions that differ only in build metadata or in the case of their pre-release are the same version)'}`
          : `${file} and ${twin} publish the same version`,
      hint: 'published versions are immutable; bump the version and publish again',
    })
  }
  added.set(key, file)

  const namespace = await ownedNamespace(ctx, subject, record.name)
  // After the namespace, which says whether the record is a peer's import.
  if (record.crate) await checkCrate(ctx, subject, record, versions, added)
  if (namespace) {
    const verdict = verifyDocument(record, PAYLOAD_TYPES.record, namespace.keys)
    subject.verified = verdict.ok
    if (!verdict.ok) {
      ctx.report({
        rule: RULES.signature,
        file,
        message: `the record's signature does not verify: ${verdict.reason}`,
        hint: `sign with a key registered in index/namespaces/${namespace.namespace}.json before this submission (wharf publish --key FILE)`,
      })
    }
  }

  for (const dep of record.dependencies) {
    const problem = checkRange(dep.req)
    if (problem) {
      ctx.report({ rule: RULES.dependency, file, message: `dependency ${dep.name}: ${problem}`, hint: 'use a SemVer range such as ^1.2.0' })
      continue
    }
    const versions = await versionsAt(ctx, ctx.head, dep.name)
    if (versions.length === 0) {
      ctx.report({ rule: RULES.dependency, file, message: `dependency ${dep.name} is not a package of this registry`, hint: 'check the name, or publish the dependency first' })
    } else if (!versions.some((v) => satisfies(v, dep.req))) {
      ctx.report({
        rule: RULES.dependency,
        file,
        message: `no published version of ${dep.name} satisfies "${dep.req}" (it has ${versions.join(', ')})`,
        hint: 'widen the requirement or publish a matching version of the dependency first',
      })
    }
  }
}

/**
 * A crate is one name registry-wide, as on crates.io: its package is
 * `<namespace>:<crate name, lower case, _ as ->`, and the first package to
 * hold a crate name keeps it, so no other namespace can take its Cargo index
 * entry or its release tags (`<crate>@<version>`, which name no namespace).
 * Crate names that differ only in case or in `-`/`_` are one crate: a
 * package keeps the spelling it was first published with. A peer's import
 * was judged by the peer; this registry's Cargo index keeps the first claim.
 */
async function checkCrate(ctx: CheckContext, subject: Subject, record: VersionRecord, versions: string[], added: Map<string, string>): Promise<void> {
  const file = subject.change.path
  const spelling = record.crate!.name
  const ns = record.name.slice(0, record.name.indexOf(':'))
  const name = crateToPackageName(spelling)
  if (!subject.imported && record.name !== `${ns}:${name}`) {
    const problem = checkName(name)
    ctx.report({
      rule: RULES.crateName,
      file,
      message: problem
        ? `crate "${spelling}" has no package name (${problem}), so it cannot be published here`
        : `crate "${spelling}" is published as ${record.name}, but a crate's package is named after it: ${ns}:${name}`,
      hint: problem ? 'rename the crate ([package] name in Cargo.toml): no "__", "--" or trailing "-" or "_"' : `publish it as ${ns}:${name} (leave out --name, or give only the namespace you want)`,
    })
    return
  }
  const slot = `crate:${record.name}`
  let first = added.get(slot)
  if (first === undefined && versions.length > 0) {
    first = (await readJsonAt<VersionRecord>(ctx.repo, ctx.base, recordPath(record.name, versions[0]!)))?.crate?.name
  }
  if (first !== undefined && first !== spelling) {
    ctx.report({
      rule: RULES.crateName,
      file,
      message: `crate "${spelling}" is spelled differently from "${first}", the crate package ${record.name} already holds (crate names that differ only in case or "-"/"_" are one crate)`,
      hint: `publish under the crate's first spelling, "${first}" (set [package] name in Cargo.toml)`,
    })
    return
  }
  if (first === undefined) added.set(slot, spelling)
  // A package with versions holds its crate already; a new one may not take a crate another namespace holds.
  if (versions.length > 0 || subject.imported) return
  const claim = `crate-holder:${name}`
  const holder = added.get(claim) ?? (await crateHolder(ctx, name, ns))
  if (holder !== undefined && holder !== record.name) {
    ctx.report({
      rule: RULES.crateTaken,
      file,
      message: `crate "${spelling}" is held by ${holder}, which published it first: a crate name is one crate across the registry (one Cargo index entry, one release tag per version)`,
      hint: `rename the crate ([package] name in Cargo.toml), or ask the owners of ${holder.slice(0, holder.indexOf(':'))} to publish it`,
    })
    return
  }
  added.set(claim, record.name)
}

/** The crate package of another namespace than `ns` that holds crate package name `name` at base, if any. */
async function crateHolder(ctx: CheckContext, name: string, ns: string): Promise<string | undefined> {
  for (const entry of (await listDir(ctx.repo, ctx.base, PACKAGES_DIR)) ?? []) {
    if (entry.type !== 'tree' || entry.name === ns) continue
    const id = `${entry.name}:${name}`
    const versions = await versionsAt(ctx, ctx.base, id)
    if (!versions.length) continue
    const held = await readJsonAt<VersionRecord>(ctx.repo, ctx.base, recordPath(id, versions[0]!))
    if (held?.crate && crateToPackageName(held.crate.name) === name) return id
  }
  return undefined
}

async function checkYank(ctx: CheckContext, subject: Subject): Promise<void> {
  const notice = subject.json as YankNotice
  const file = subject.change.path
  // The version may come in the same submission (an import carries a record and its yank notice together).
  const versions = await versionsAt(ctx, ctx.head, notice.name)
  if (!versions.includes(notice.version)) {
    ctx.report({
      rule: RULES.yankUnknown,
      file,
      message: `${notice.name}@${notice.version} is not published, so it cannot be yanked`,
      hint: versions.length ? `published versions: ${versions.join(', ')}` : 'check the package name',
    })
  }
  const namespace = await ownedNamespace(ctx, subject, notice.name)
  if (!namespace) return
  const verdict = verifyDocument(notice, PAYLOAD_TYPES.yank, namespace.keys)
  if (!verdict.ok) {
    ctx.report({
      rule: RULES.signature,
      file,
      message: `the yank notice's signature does not verify: ${verdict.reason}`,
      hint: `sign it with a key registered in index/namespaces/${namespace.namespace}.json`,
    })
  }
}
