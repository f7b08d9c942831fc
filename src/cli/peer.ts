import { openRepo } from '../git/index.js'
import { addPeer } from '../sync/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, list, optionalString, printJson, type Command } from './command.js'

export const peerAdd: Command = {
  help: `wharf peer add NAME URL --namespace NS [--namespace ...] [--key KEYID] [--index DIR] [--author LOGIN] [--json]

Makes a proposal branch peer/NAME that adds the peer to index/registry.json
(or changes the peer of that name): the URL its static output is served at
(https, or http to a loopback host), the namespaces delegated to it (it
becomes their one authority: nobody publishes into them here) and the
registry key it is pinned to. The key is read from the peer's config.json,
and the peer's signed snapshot must verify with it. Compare the key it
prints with the one the peer's operators publish, then merge the proposal
with \`wharf merge --branch peer/NAME --author MAINTAINER\`; \`wharf sync\`
imports.

  --namespace NS   a namespace the peer is the authority of (repeatable); a
                   namespace this registry defines cannot be delegated
  --key KEYID      the key to pin, when config.json lists several (its id,
                   or the base64 public key)
  --index DIR      the index repo (default: $WHARF_INDEX or the current directory)
  --author LOGIN   the maintainer who proposes it (default: the first maintainer)
  --json           print {branch, base, head, peer, author}, and replaces (the
                   entry it changes) when the peer was listed`,
  options: { namespace: { type: 'string', multiple: true }, key: { type: 'string' }, author: { type: 'string' }, ...INDEX_OPTION, ...JSON_OPTION },
  positionals: [2, 2],
  async run({ values, positionals }, io) {
    const result = await addPeer({
      repo: openRepo(indexDir(values, io)),
      name: positionals[0]!,
      url: positionals[1]!,
      namespaces: list(values, 'namespace'),
      key: optionalString(values, 'key'),
      author: optionalString(values, 'author'),
    })
    if (values.json) {
      printJson(io, result)
      return 0
    }
    const { peer } = result
    io.stdout(
      `${result.replaces ? 'Proposed a change to' : 'Proposed'} peer ${peer.name} (${peer.url}) for namespace${peer.namespaces.length > 1 ? 's' : ''} ${peer.namespaces.join(', ')} on branch ${result.branch}.\n` +
        `Pinned key: ${peer.key.id} (${peer.key.public_key})${result.replaces && result.replaces.key.id !== peer.key.id ? `, replacing ${result.replaces.key.id}` : ''}\n` +
        `Compare it with the key the peer's operators publish, then merge: wharf merge --branch ${result.branch} --author ${result.author}${values.index ? ` --index ${shellWord(String(values.index))}` : ''}\n`,
    )
    return 0
  },
}

/** `text` as one word a POSIX shell reads back unchanged: as it is when plain, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`
}
