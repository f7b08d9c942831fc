import { formatText } from '../check/index.js'
import { openRepo } from '../git/index.js'
import { mergeProposal } from '../publish/index.js'
import { parseSubmitter, requireSubmitter } from '../core/submitter.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, printJson, required, type Command } from './command.js'

export const merge: Command = {
  help: `wharf merge --branch B --author LOGIN[:ID] [--index DIR] [--json]

Runs \`wharf check\` on the proposal as it would land on the current main and,
when accepted, writes one new commit on main (a squash: main's tree plus the
proposal's judged changes, main's tip as its first parent, the submitter in
a Wharf-Submitter trailer), logs the new tip in .wharf/main-tips and deletes
the branch. The proposal's own commits never reach main. Refuses (exit 1)
whatever check rejects.

  --branch B       the proposal branch (wharf publish/namespace add print it)
  --author LOGIN   the account that submits (required; LOGIN:ID adds the
                   numeric account id). Never read from a commit.
  --index DIR      the index repo (default: $WHARF_INDEX or the current directory)
  --json           print {merged, commit, check}`,
  options: { branch: { type: 'string' }, author: { type: 'string' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const result = await mergeProposal(openRepo(indexDir(values, io)), {
      branch: required(values, 'branch', 'merge'),
      author: requireSubmitter(typeof values.author === 'string' ? parseSubmitter(values.author) : undefined, 'merge'),
    })
    if (values.json) printJson(io, result)
    else if (result.merged) io.stdout(`Merged ${values.branch} into main at ${result.commit!.slice(0, 12)}\n`)
    else io.stdout(`Not merged.\n${formatText(result.check)}`)
    return result.merged ? 0 : 1
  },
}
