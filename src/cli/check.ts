import { formatMarkdown, formatText, runCheck } from '../check/index.js'
import { WharfError } from '../core/errors.js'
import { parseSubmitter, requireSubmitter } from '../core/submitter.js'
import { openRepo } from '../git/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, printJson, required, type Command } from './command.js'

export const check: Command = {
  help: `wharf check --index DIR --base REV --head REV --author LOGIN[:ID] [--json] [--markdown]

Judges what the submission would land on base: its own changes since it
branched off base, applied as one commit (merge squashes, so the
submission's intermediate commits never reach main). Every tree it brings in
must be well-formed as git fsck defines it; then every rule applies
(DESIGN §4). Exit 0: accepted; 1: rejected (each finding names its rule and
how to fix it); 2: cannot run, --author missing included. In GitHub Actions
each finding is also printed as a file annotation (not with --json, whose
output is the JSON alone) and the Markdown summary is appended to
$GITHUB_STEP_SUMMARY.

  --base REV        what the submission is compared against (e.g. main)
  --head REV        the submission (a branch or commit)
  --author LOGIN    the account that submits (required; LOGIN:ID adds the
                    numeric account id). Never read from a commit, whose
                    author name anyone can set.
  --index DIR       the index repo (default: $WHARF_INDEX or the current directory)
  --json            print the result as JSON
  --markdown        print the Markdown summary`,
  options: { base: { type: 'string' }, head: { type: 'string' }, author: { type: 'string' }, markdown: { type: 'boolean' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    if (values.json && values.markdown) throw new WharfError('USAGE', 'check prints JSON or Markdown, not both', { hint: 'pass --json or --markdown' })
    const result = await runCheck({
      repo: openRepo(indexDir(values, io)),
      base: required(values, 'base', 'check'),
      head: required(values, 'head', 'check'),
      author: requireSubmitter(typeof values.author === 'string' ? parseSubmitter(values.author) : undefined, 'check'),
    })
    if (values.json) printJson(io, result)
    else io.stdout(values.markdown ? formatMarkdown(result) : formatText(result))
    const inActions = io.env.GITHUB_ACTIONS === 'true'
    if (inActions || io.env.GITHUB_STEP_SUMMARY) {
      const actions = await import('../github/actions.js')
      // Annotations are workflow commands on stdout, which --json keeps for the JSON a script parses.
      if (inActions && !values.json) actions.annotate(result.findings)
      if (io.env.GITHUB_STEP_SUMMARY) await actions.appendSummary(formatMarkdown(result))
    }
    return result.accepted ? 0 : 1
  },
}
