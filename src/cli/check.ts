import { formatMarkdown, formatText, runCheck } from '../check/index.js'
import { openRepo } from '../git/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, optionalString, printJson, required, type Command } from './command.js'

export const check: Command = {
  help: `wharf check --index DIR --base REV --head REV [--author LOGIN] [--json] [--markdown]

Compares two commits of an index repo and applies every rule (DESIGN §4).
Exit 0: accepted; 1: rejected (each finding names its rule and how to fix
it); 2: cannot run. In GitHub Actions each finding is also printed as a file
annotation and the Markdown summary is appended to $GITHUB_STEP_SUMMARY.

  --base REV        what the submission is compared against (e.g. main)
  --head REV        the submission (a branch or commit)
  --author LOGIN    the submitter (default: author of the head commit)
  --index DIR       the index repo (default: $WHARF_INDEX or the current directory)
  --json            print the result as JSON
  --markdown        print the Markdown summary`,
  options: { base: { type: 'string' }, head: { type: 'string' }, author: { type: 'string' }, markdown: { type: 'boolean' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await runCheck({
      repo: openRepo(indexDir(values, io)),
      base: required(values, 'base', 'check'),
      head: required(values, 'head', 'check'),
      author: optionalString(values, 'author'),
    })
    if (values.json) printJson(io, result)
    else io.stdout(values.markdown ? formatMarkdown(result) : formatText(result))
    const inActions = io.env.GITHUB_ACTIONS === 'true'
    if (inActions || io.env.GITHUB_STEP_SUMMARY) {
      const actions = await import('../github/actions.js')
      if (inActions) actions.annotate(result.findings)
      if (io.env.GITHUB_STEP_SUMMARY) await actions.appendSummary(formatMarkdown(result))
    }
    return result.accepted ? 0 : 1
  },
}
