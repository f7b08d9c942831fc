import { openRepo } from '../git/index.js'
import { parseOwner, proposeNamespace } from '../publish/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, list, optionalString, printJson, readInputFile, required, type Command } from './command.js'

export const namespaceAdd: Command = {
  help: `wharf namespace add NS --owner LOGIN [--owner ...] --key FILE.pub [--index DIR] [--author LOGIN] [--json]

Makes a proposal branch namespace/NS in the index that adds
index/namespaces/NS.json. Merge it with
\`wharf merge --branch namespace/NS --author LOGIN\`, LOGIN the claim's author.

  --owner LOGIN    an owner: LOGIN, LOGIN:NUMERIC-ID or @org/team (repeatable)
  --key FILE.pub   the public key that will sign the namespace's records
  --index DIR      the index repo (default: $WHARF_INDEX or the current directory)
  --author LOGIN   who submits the claim (default: the first --owner)
  --json           print {branch, base, head}`,
  options: { owner: { type: 'string', multiple: true }, key: { type: 'string' }, author: { type: 'string' }, ...INDEX_OPTION, ...JSON_OPTION },
  positionals: [1, 1],
  async run({ values, positionals }, io) {
    const repo = openRepo(indexDir(values, io))
    const keyFile = required(values, 'key', 'namespace add')
    const proposal = await proposeNamespace(repo, {
      namespace: positionals[0]!,
      owners: list(values, 'owner').map(parseOwner),
      publicKey: await readInputFile(keyFile, '--key'),
      author: optionalString(values, 'author'),
    })
    if (values.json) printJson(io, proposal)
    else io.stdout(`Proposed namespace ${positionals[0]} on branch ${proposal.branch}\n`)
    return 0
  },
}
