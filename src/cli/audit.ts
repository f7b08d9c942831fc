import { auditIndex } from '../audit/index.js'
import { openRepo } from '../git/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, printJson, type Command } from './command.js'

export const audit: Command = {
  help: `wharf audit [--index DIR] [--json]

Walks every commit of main: published files were only ever added, owner and
maintainer changes came from owners and maintainers, and every record and yank
notice verifies with a key its namespace held at the time. Exit 1 on any
violation, naming the commit and file.

  --index DIR   the index repo (default: $WHARF_INDEX or the current directory)
  --json        print {ok, commits, records, violations}`,
  options: { ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await auditIndex(openRepo(indexDir(values, io)))
    if (values.json) printJson(io, result)
    else {
      io.stdout(`${result.ok ? 'ok' : 'FAILED'}: ${result.commits} commits, ${result.records} records, ${result.violations.length} violation(s)\n`)
      for (const v of result.violations) io.stdout(`  ✗ ${v.commit.slice(0, 12)} ${v.file}: ${v.message}\n`)
    }
    return result.ok ? 0 : 1
  },
}
