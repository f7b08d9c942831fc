import { auditIndex } from '../audit/index.js'
import { openRepo } from '../git/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, list, printJson, type Command } from './command.js'

export const audit: Command = {
  help: `wharf audit [--index DIR] [--expect REV]... [--json]

Walks every commit of main's first-parent history: published files were only
ever added, owner and maintainer changes came from owners and maintainers (as
the Wharf-Submitter trailer wharf writes into each commit it lands records
them, never a commit's author name), every record and yank notice verifies
with a key its namespace held at the time, and every tree is well-formed (as
git fsck defines it). main must still hold every tip wharf logged in
.wharf/main-tips, in order, and every --expect commit: a rewritten history
loses them. Exit 1 on any violation, naming the commit and file.

  --expect REV  a commit main's history must hold, such as the commit a
                published snapshot.json names (an anchor for a clone that
                has no .wharf/main-tips); repeatable
  --index DIR   the index repo (default: $WHARF_INDEX or the current directory)
  --json        print {ok, commits, records, anchors, violations}`,
  options: { expect: { type: 'string', multiple: true }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await auditIndex(openRepo(indexDir(values, io)), { expect: list(values, 'expect') })
    if (values.json) printJson(io, result)
    else {
      io.stdout(`${result.ok ? 'ok' : 'FAILED'}: ${result.commits} commits, ${result.records} records, ${result.anchors} anchors, ${result.violations.length} violation(s)\n`)
      for (const v of result.violations) io.stdout(`  ✗ ${v.commit.slice(0, 12)} ${v.file}: ${v.message}\n`)
    }
    return result.ok ? 0 : 1
  },
}
