/** Which files may change, and how: additions under index/, regular files, bounded size. */
import { delegatedTo } from './federation.js'
import { RULES, type CheckContext, type Subject } from '../types.js'

const REGULAR = '100644'
const MODE_NAMES: Record<string, string> = { '100755': 'an executable file', '120000': 'a symlink', '160000': 'a submodule' }

export async function checkFiles(ctx: CheckContext): Promise<void> {
  for (const subject of ctx.subjects) {
    const { change, where } = subject
    const file = change.path
    if (where.kind === 'outside') {
      subject.skip = true
      ctx.report({
        rule: RULES.outsideIndex,
        file,
        message: `${file} is outside index/; a submission may only add files under index/`,
        hint: 'move this change to its own pull request for a maintainer to review',
      })
      continue
    }
    if (where.kind === 'invalid') {
      subject.skip = true
      ctx.report({ rule: RULES.path, file, message: `${file}: ${where.reason}`, hint: 'use the layout index/packages/<namespace>/<name...>/<version>.json (see DESIGN §3)' })
      continue
    }
    if (where.kind === 'report') {
      subject.skip = true
      ctx.report({
        rule: RULES.reports,
        file,
        message: `${file} is under index/reports/, which only the registry's own CI writes`,
        hint: 'remove it; the registry writes compatibility reports after merge',
      })
      continue
    }
    if (change.status !== 'added' && !(await mayChange(ctx, subject))) {
      subject.skip = true
      continue
    }
    if (change.mode && change.mode !== REGULAR) {
      subject.skip = true
      ctx.report({
        rule: RULES.fileType,
        file,
        message: `${file} is ${MODE_NAMES[change.mode] ?? `of mode ${change.mode}`}; only regular files are allowed`,
        hint: 'commit it as a plain, non-executable file',
      })
    }
  }
}

/** Whether a modification or deletion is one of the few allowed; reports it when not. */
async function mayChange(ctx: CheckContext, { change, where }: Subject): Promise<boolean> {
  const file = change.path
  // A peer's cursor and a delegated namespace's file change with each import: the federation rules judge them.
  if (change.status === 'modified' && where.kind === 'peer') return true
  if (change.status === 'modified' && where.kind === 'namespace') {
    const current = await ctx.namespaceAtBase(where.namespace)
    if (current?.authority || delegatedTo(ctx.registry, where.namespace)) return true
    if (current && (await ctx.owns(current.owners))) return true
    ctx.report({
      rule: RULES.namespaceChange,
      file,
      message: `${ctx.author.login} changed ${file} but is not an owner of namespace "${where.namespace}"`,
      hint: `ask an owner (${ctx.ownersHint(current?.owners ?? [])}) to make this change`,
    })
    return false
  }
  if (change.status === 'modified' && where.kind === 'registry') {
    if (await ctx.owns(ctx.registry.maintainers)) return true
    ctx.report({
      rule: RULES.registryChange,
      file,
      message: `${ctx.author.login} changed ${file} but is not a maintainer of the registry`,
      hint: 'only the maintainers named in index/registry.json may change policy and peers',
    })
    return false
  }
  const what = change.status === 'deleted' ? 'deletes' : 'modifies'
  ctx.report({
    rule: RULES.appendOnly,
    file,
    message: `the submission ${what} ${file}; published files are immutable`,
    hint:
      where.kind === 'record'
        ? 'publish a new version instead, or add a yank notice (<version>.yank.json) to withdraw this one'
        : 'a submission may only add files',
  })
  return false
}
