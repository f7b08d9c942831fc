import { WharfError, exitCodeFor } from '../core/errors.js'
import { openRepo } from '../git/index.js'
import { releaseVersions } from '../publish/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, optionalString, printJson, required, type Command } from './command.js'
import { githubClient, parseRepoRef } from './github.js'

export const release: Command = {
  help: `wharf release --github OWNER/REPO --before SHA [--after REV] [--index DIR] [--json]

For each version record the push BEFORE..AFTER added to the index, fetches
each artifact where the record says, checks its size and sha256 against the
record, and uploads it as an asset of the release of OWNER/REPO tagged
<namespace>.<name>@<version> (a crate: <crate>@<version>; "/" in a name is
"." too), made at AFTER when absent. Running it again on the same push
uploads nothing twice and changes nothing: an asset already there counts
when GitHub's digest matches the record, and one with other bytes is
refused, never replaced. Then \`wharf build-api --releases
https://github.com/OWNER/REPO\` names these assets as download URLs.

A version that cannot be released (its artifact changed, GitHub's limits of
1,000 assets a release and 2 GiB an asset) is reported and the others still
go; the exit code is then that of the first failure.

  --github OWNER/REPO   the index repo on GitHub. Token: $GITHUB_TOKEN, else the
                        credentials file's entry for $GITHUB_API_URL (default https://api.github.com)
  --before SHA          the commit main was at before the push (all zeros: take every record at AFTER)
  --after REV           the commit the push moved main to (default: main)
  --index DIR           a clone of the index holding both (default: $WHARF_INDEX or the current directory)
  --json                print {before, after, versions: [{name, version, tag, release, assets, error?}], uploaded, requests}`,
  options: { github: { type: 'string' }, before: { type: 'string' }, after: { type: 'string' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    const index = parseRepoRef(required(values, 'github', 'release'), '--github')
    const before = required(values, 'before', 'release')
    const repo = openRepo(indexDir(values, io))
    const github = githubClient(io, 'release')
    const result = await releaseVersions({ github, index, repo, before, after: optionalString(values, 'after') ?? 'main', ...(values.json ? {} : { progress: (m: string) => io.stderr(`${m}\n`) }) })
    const failed = result.versions.filter((v) => v.error)
    if (values.json) printJson(io, result)
    else {
      for (const v of result.versions) {
        if (v.error) io.stdout(`${v.name}@${v.version}: not released: ${v.error.message}${v.error.hint ? ` (${v.error.hint})` : ''}\n`)
        else io.stdout(`${v.name}@${v.version}: release ${v.tag}${v.release?.created ? ' (new)' : ''}, ${v.assets.map((a) => `${a.name} ${a.status}`).join(', ')}\n`)
      }
      io.stdout(`${result.versions.length} version(s) added by the push, ${result.uploaded} asset(s) uploaded, ${result.requests} GitHub requests\n`)
    }
    const first = failed[0]?.error
    return first ? exitCodeFor(new WharfError(first.code, first.message)) : 0
  },
}
