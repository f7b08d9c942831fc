import { initIndex } from '../publish/index.js'
import { JSON_OPTION, optionalString, printJson, type Command } from './command.js'

export const init: Command = {
  help: `wharf init [DIR] [--maintainer LOGIN] [--name NAME] [--github OWNER/wharf@SHA] [--json]

Creates DIR (default: the current directory) as a git repo with main checked
out, index/registry.json naming LOGIN (default: admin) as maintainer, and a
registry signing key in DIR/.wharf/registry.key (ignored by git).

  --maintainer LOGIN   first maintainer of the registry (default: admin)
  --name NAME          registry name (default: the directory name, lower-cased,
                       each run of characters other than a-z, 0-9 and - made one -)
  --github ACTION      also write .github/workflows/validate.yml, merge.yml and
                       release.yml: the pull-request gate of a registry on GitHub
                       and the release of what it merges to assets and Pages, using the
                       wharf Action pinned by commit: OWNER/wharf@<40-hex sha>
  --json               print {dir, commit, key_id}`,
  options: { maintainer: { type: 'string' }, name: { type: 'string' }, github: { type: 'string' }, ...JSON_OPTION },
  positionals: [0, 1],
  async run({ values, positionals }, io) {
    const result = await initIndex({ dir: positionals[0] ?? '.', maintainer: optionalString(values, 'maintainer'), name: optionalString(values, 'name'), githubAction: optionalString(values, 'github') })
    if (values.json) printJson(io, { dir: result.dir, commit: result.commit, key_id: result.keyId })
    else io.stdout(`Created index repo ${result.dir} (registry key ${result.keyId})\n`)
    return 0
  },
}
