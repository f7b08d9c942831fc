import { formatText } from '../check/index.js'
import { openRepo } from '../git/index.js'
import { mergeProposal } from '../publish/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, optionalString, printJson, required, type Command } from './command.js'

export const merge: Command = {
  help: `wharf merge --branch B [--author LOGIN] [--index DIR] [--json]

Runs \`wharf check\` on the proposal as it would land on the current main and,
when accepted, moves main to it and deletes the branch. Refuses (exit 1)
whatever check rejects.

  --branch B       the proposal branch (wharf publish/namespace add print it)
  --author LOGIN   the submitter (default: author of the proposal's commit)
  --index DIR      the index repo (default: $WHARF_INDEX or the current directory)
  --json           print {merged, commit, check}`,
  options: { branch: { type: 'string' }, author: { type: 'string' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await mergeProposal(openRepo(indexDir(values, io)), {
      branch: required(values, 'branch', 'merge'),
      author: optionalString(values, 'author'),
    })
    if (values.json) printJson(io, result)
    else if (result.merged) io.stdout(`Merged ${values.branch} into main at ${result.commit!.slice(0, 12)}\n`)
    else io.stdout(`Not merged.\n${formatText(result.check)}`)
    return result.merged ? 0 : 1
  },
}
