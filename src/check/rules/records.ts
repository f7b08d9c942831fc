/** Version records and yank notices: new versions only, from owners, signed with a key held at base, with real dependencies. */
import { PAYLOAD_TYPES, verifyDocument } from '../../core/dsse.js'
import { packageDir, recordPath } from '../../core/layout.js'
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
  if (record.crate) await checkCrateName(ctx, subject, record, versions, added)

  const namespace = await ownedNamespace(ctx, subject, record.name)
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
 * Crate names that differ only in case or in `-`/`_` are one crate and
 * one package (as on crates.io): a package keeps the spelling it was first
 * published with, and a second spelling is refused.
 */
async function checkCrateName(ctx: CheckContext, subject: Subject, record: VersionRecord, versions: string[], added: Map<string, string>): Promise<void> {
  const spelling = record.crate!.name
  const slot = `crate:${record.name}`
  let first = added.get(slot)
  if (first === undefined && versions.length > 0) {
    first = (await readJsonAt<VersionRecord>(ctx.repo, ctx.base, recordPath(record.name, versions[0]!)))?.crate?.name
  }
  if (first !== undefined && first !== spelling) {
    ctx.report({
      rule: RULES.crateName,
      file: subject.change.path,
      message: `crate "${spelling}" is spelled differently from "${first}", the crate package ${record.name} already holds (crate names that differ only in case or "-"/"_" are one crate)`,
      hint: `publish under the crate's first spelling, "${first}" (set [package] name in Cargo.toml)`,
    })
    return
  }
  if (first === undefined) added.set(slot, spelling)
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
