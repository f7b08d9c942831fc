/** Check results for people: plain text for a terminal, Markdown for a pull request or step summary. */
import type { CheckResult } from './index.js'

const short = (oid: string) => oid.slice(0, 12)
const who = (result: CheckResult) => `${result.author.login}${result.author.id !== undefined ? ` (${result.author.id})` : ''}`

export function formatText(result: CheckResult): string {
  const lines = [
    `${result.accepted ? 'accepted' : 'rejected'}: ${result.changes.length} changed file(s), ${short(result.base)}..${short(result.head)}, submitted by ${who(result)}`,
  ]
  for (const f of result.findings) {
    lines.push(`  ✗ [${f.rule}] ${f.message}`, `      fix: ${f.hint}`)
  }
  return `${lines.join('\n')}\n`
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

export function formatMarkdown(result: CheckResult): string {
  const lines = [
    `### wharf check: ${result.accepted ? '✅ accepted' : '❌ rejected'}`,
    '',
    `${result.changes.length} changed file(s) between \`${short(result.base)}\` and \`${short(result.head)}\`, submitted by \`${who(result)}\`.`,
    '',
  ]
  if (result.findings.length > 0) {
    lines.push('| rule | file | problem | how to fix |', '| --- | --- | --- | --- |')
    for (const f of result.findings) lines.push(`| \`${f.rule}\` | ${f.file ? `\`${cell(f.file)}\`` : ''} | ${cell(f.message)} | ${cell(f.hint)} |`)
    lines.push('')
  }
  return lines.join('\n')
}
