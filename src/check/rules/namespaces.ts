/** New namespace claims: the claimer owns what they claim, and the name is free, not reserved and no look-alike. */
import { listDir, type Repo } from '../../git/index.js'
import { NAMESPACES_DIR, PACKAGES_DIR } from '../../core/layout.js'
import { lookalikeReason } from '../../core/lookalike.js'
import type { NamespaceFile } from '../../core/types.js'
import { RULES, type CheckContext } from '../types.js'

export async function checkNamespaceClaims(ctx: CheckContext): Promise<void> {
  const claims = ctx.subjects.filter((s) => !s.skip && s.where.kind === 'namespace' && s.change.status === 'added')
  if (claims.length === 0) return
  const maintainer = await ctx.owns(ctx.registry.maintainers)
  const policy = ctx.registry.policy.namespaces
  const existing = policy.lookalike ? await existingNames(ctx.repo, ctx.base) : undefined
  for (const subject of claims) {
    const file = subject.change.path
    const claim = subject.json as NamespaceFile
    const ns = claim.namespace
    if (!(await ctx.owns(claim.owners))) {
      ctx.report({
        rule: RULES.claimAuthor,
        file,
        message: `${ctx.author.login} claims namespace "${ns}" but is not among its owners`,
        hint: 'list yourself as an owner of a namespace you claim (wharf namespace add NS --owner YOUR-LOGIN)',
      })
    }
    if (policy.reserved.includes(ns) && !maintainer) {
      ctx.report({
        rule: RULES.reserved,
        file,
        message: `namespace "${ns}" is reserved by the registry`,
        hint: 'choose another name, or ask a registry maintainer to grant it',
      })
    }
    for (const other of existing ?? []) {
      const reason = lookalikeReason(ns, other.name)
      if (reason) {
        ctx.report({
          rule: RULES.lookalike,
          file,
          message: `namespace "${ns}" looks like the existing ${other.kind} "${other.label}": ${reason}`,
          hint: 'choose a clearly different name; if you own the existing one, publish under it instead',
        })
        break
      }
    }
    const hours = policy.waiting_period_hours
    if (hours > 0 && !maintainer) {
      const ready = new Date((await ctx.submittedAt()).getTime() + hours * 3_600_000)
      if (ctx.now < ready) {
        ctx.report({
          rule: RULES.waitingPeriod,
          file,
          message: `new namespace "${ns}" must wait ${hours} hours after submission before it can merge`,
          hint: `the claim can merge after ${ready.toISOString()}; nothing needs to change`,
        })
      }
    }
  }
}

interface ExistingName {
  kind: 'namespace' | 'package'
  name: string
  label: string
}

/** Every namespace and package name at `commit`: what a new claim must not look like. */
async function existingNames(repo: Repo, commit: string): Promise<ExistingName[]> {
  const names: ExistingName[] = []
  for (const entry of (await listDir(repo, commit, NAMESPACES_DIR)) ?? []) {
    if (entry.name.endsWith('.json')) {
      const ns = entry.name.slice(0, -'.json'.length)
      names.push({ kind: 'namespace', name: ns, label: ns })
    }
  }
  const visit = async (dir: string, ns: string, name: string): Promise<void> => {
    const entries = (await listDir(repo, commit, dir)) ?? []
    if (name && entries.some((e) => e.type === 'blob')) names.push({ kind: 'package', name, label: `${ns}:${name}` })
    for (const e of entries) if (e.type === 'tree') await visit(`${dir}/${e.name}`, ns, name ? `${name}/${e.name}` : e.name)
  }
  for (const nsDir of (await listDir(repo, commit, PACKAGES_DIR)) ?? []) {
    if (nsDir.type === 'tree') await visit(`${PACKAGES_DIR}/${nsDir.name}`, nsDir.name, '')
  }
  return names
}
