import { buildApi } from '../api/index.js'
import { openRepo } from '../git/index.js'
import { INDEX_OPTION, indexDir, JSON_OPTION, optionalString, printJson, required, type Command } from './command.js'
import { createProgress } from './progress.js'

export const buildApiCommand: Command = {
  help: `wharf build-api --index DIR --out DIR [--base-url URL] [--releases URL] [--since REV] [--no-site] [--json]

Writes the read side of the registry at the tip of main as plain files any
static host serves: the Run 2.0 API (api/v1/packages/<name>/versions and
/<version>, stats, health), config.json, the Cargo sparse index under cargo/,
the change feed, the search index, namespace documents, the signed index
files under index/, stored artifacts under artifacts/sha256/, the site for
people (index.html, a page per package, version and namespace, README
badges under badges/), and snapshot.json signed with the registry key,
which covers all of it. The key is the PEM in $WHARF_REGISTRY_KEY (how a CI
secret passes it), else the index repo's .wharf/registry.key (where
\`wharf init\` wrote it).

OUT becomes a symlink to the build, swapped in whole when a full build is
done. With --since REV (the commit OUT was built from) only the documents of
packages changed since then and the aggregates are rewritten, in place and
file by file; the bytes are the same as a full build's. When OUT was not
built from REV (or for another base URL or --releases), the build runs in full and says why.

  --index DIR      the index repo (default: $WHARF_INDEX or the current directory)
  --out DIR        where readers are served from
  --base-url URL   the public URL of OUT (default: $REGISTRY_URL or http://localhost:8080)
  --releases URL   the index repo's web URL (https://github.com/OWNER/REPO) when
                   \`wharf release\` mirrors artifacts to its releases: each version's
                   download_url and Cargo's dl name its release asset (tag <ns>.<name>@<version>,
                   or <crate>@<version> for a crate); default: the store under --base-url
  --since REV      the commit OUT was last built from
  --no-site        write the API only, no pages or badges
  --json           print {mode, reason, commit, tree, written, removed, packages, events, seq, warnings}
                   (tree: the directory the build wrote, which OUT links to)`,
  options: { out: { type: 'string' }, 'base-url': { type: 'string' }, releases: { type: 'string' }, since: { type: 'string' }, 'no-site': { type: 'boolean' }, ...INDEX_OPTION, ...JSON_OPTION },
  async run({ values }, io) {
    // Loaded here, not with the command table: other commands never draw a page.
    const pages = values['no-site'] ? undefined : (await import('../site/index.js')).siteRenderer
    const progress = createProgress(io, values, 'build-api')
    const result = await buildApi({
      repo: openRepo(indexDir(values, io)),
      out: required(values, 'out', 'build-api'),
      baseUrl: optionalString(values, 'base-url') ?? io.env.REGISTRY_URL,
      since: optionalString(values, 'since'),
      releases: optionalString(values, 'releases'),
      registryKey: io.env.WHARF_REGISTRY_KEY,
      ...(pages ? { pages } : {}),
      onProgress: progress.report,
    }).finally(() => progress.end())
    if (values.json) printJson(io, result)
    else {
      const why = result.reason ? ` (full: ${result.reason})` : ''
      io.stdout(`Built the API of ${result.commit.slice(0, 12)} ${result.mode}${why}: ${result.written} file(s) written, ${result.removed} removed, feed at ${result.seq}\n`)
      for (const warning of result.warnings) io.stderr(`warning: ${warning}\n`)
    }
    return 0
  },
}
