/**
 * What people read: the step summary and the pull request's comment, in
 * Markdown. Every string a submitter controls (paths, messages quoting them)
 * is escaped, so a pull request cannot inject links, HTML or table cells.
 */
import type { Finding } from '../check/index.js'
import type { GateResult } from '../review/index.js'
import type { Judgement } from './judge.js'

/**
 * Text safe in a Markdown table cell: no HTML, no cell breaks, no
 * formatting, and nothing GitHub turns into a link or a notification by
 * itself (`@login`, `www.host`, `scheme://`): a zero-width space follows
 * such an `@` (not the one of `acme:calc@1.0.0`), `www` and colon, which
 * changes nothing a person reads.
 */
export function cell(text: string): string {
  return text
    .replace(/[\u0000-\u001f\u007f]/g, ' ')
    .replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
    .replace(/[\\`*_[\]|~!#]/g, (c) => `\\${c}`)
    .replace(/(?<![\w.+-])@|(?<![\w.-])www(?=\.)|:(?=\/\/)/gi, (m) => `${m}\u200b`)
}

const code = (text: string) => `<code>${cell(text)}</code>`

function findingsTable(findings: readonly Finding[]): string[] {
  if (findings.length === 0) return []
  return [
    '| rule | file | problem | how to fix |',
    '| --- | --- | --- | --- |',
    ...findings.map((f) => `| ${code(f.rule)} | ${f.file ? code(f.file) : ''} | ${cell(f.message)} | ${cell(f.hint)} |`),
    '',
  ]
}

/** The check's verdict: which versions, by whom, and each failed rule with its fix. */
export function judgementMarkdown(j: Judgement): string {
  const who = `${j.author.login}${j.author.id !== undefined ? ` (id ${j.author.id})` : ''}`
  const lines = [`### wharf check: ${j.accepted ? '✅ accepted' : '❌ rejected'}`, '']
  lines.push(j.packages.length > 0 ? `Adds ${j.packages.map(code).join(', ')}, submitted by ${code(who)}.` : `${j.changes.length} changed file(s), submitted by ${code(who)}.`, '')
  lines.push(...findingsTable(j.findings))
  for (const w of j.waiting) lines.push(`⏳ ${cell(w.message)}. ${cell(w.hint)}.`, '')
  if (j.deferredTeams.length > 0) {
    lines.push(
      `⏳ ${code(j.author.login)} is counted an owner through ${j.deferredTeams.map(code).join(', ')} here without confirmation: this workflow may not read the organization's teams. merge confirms the membership with its \`team-token\` before it merges; a maintainer who merges by hand confirms it first.`,
      '',
    )
  }
  const unconfirmed = j.unconfirmedTeams.filter((t) => !j.deferredTeams.includes(t))
  if (unconfirmed.length > 0) {
    lines.push(
      `⚠️ Ownership through ${unconfirmed.map(code).join(', ')} could not be confirmed: the token may not read the organization's teams. Give the workflow a token with \`members: read\` (input \`team-token\`), or a maintainer confirms the membership and merges by hand.`,
      '',
    )
  }
  return lines.join('\n')
}

export function gatesMarkdown(results: readonly GateResult[]): string {
  if (results.length === 0) return ''
  const lines = ['#### Quality gates', '', '| gate | requires | measured | result |', '| --- | --- | --- | --- |']
  for (const r of results) {
    const verdict = r.met ? '✅ met' : r.waived ? `⚪ waived by ${code(r.waiverLabel)}` : `❌ unmet (a maintainer may waive it with the label ${code(r.waiverLabel)})`
    lines.push(`| ${code(r.gate)} | ${cell(r.requirement)} | ${cell(r.measured)} | ${verdict} |`)
  }
  return `${lines.join('\n')}\n`
}
