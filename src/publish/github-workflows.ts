/**
 * The index repo's GitHub workflows: validate (pull_request) and merge
 * (workflow_run of validate, and a schedule) and release (push to main).
 * One source for both uses:
 * wharf's own repo runs them with the Action from its checkout (`./`), and
 * `wharf init --github` writes them with the Action pinned by commit
 * (`owner/wharf@<sha> # <version>`). A test holds .github/workflows/ to
 * `indexWorkflows('./')`.
 */
import { WharfError } from '../core/errors.js'

const PINNED_ACTION = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+@[0-9a-f]{40}$/

/** The workflow files, by path, using the Action as `action` (`./`, or `owner/wharf@<40-hex sha>`, with an optional ` # version` comment). */
export function indexWorkflows(action: string): Record<string, string> {
  const [ref, comment] = action.split(/ # /, 2)
  if (ref !== './' && !PINNED_ACTION.test(ref ?? '')) {
    throw new WharfError('USAGE', `"${action}" is not the Action pinned by a full commit sha`, { hint: 'pass --github OWNER/wharf@<40-hex commit> (a tag can move; a commit cannot)' })
  }
  if (comment !== undefined && !/^[A-Za-z0-9._+-]{1,40}$/.test(comment)) throw new WharfError('USAGE', `"${comment}" is not a version`, { hint: 'name the version the commit is, e.g. v0.1.0' })
  return {
    '.github/workflows/validate.yml': validate(action),
    '.github/workflows/merge.yml': merge(action),
    '.github/workflows/release.yml': release(action),
  }
}

const validate = (action: string) => `# Validates a pull request to the index: wharf check, then one matrix job per
# target of each version it adds. This workflow runs the submitter's code (the
# matrix builds and tests their crate), so it holds no secret and may only read;
# merge.yml, which runs on the default branch, judges again and merges.
name: validate
on:
  pull_request:
    branches: [main]
permissions: {}
jobs:
  check:
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    outputs:
      legs: \${{ steps.check.outputs.legs }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - id: check
        uses: ${action}
        with:
          command: check
  test:
    needs: check
    if: needs.check.outputs.legs != '[]'
    runs-on: ubuntu-24.04
    permissions:
      contents: read
    strategy:
      fail-fast: false
      matrix:
        leg: \${{ fromJSON(needs.check.outputs.legs) }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: bytecodealliance/actions/wasmtime/setup@6aecabac1eb1dcf7ed94ba9471974415ee2ebef2 # v1.1.2
      - id: test
        uses: ${action}
        with:
          command: test
          package: \${{ matrix.leg.package }}
          target: \${{ matrix.leg.target }}
      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f # v7.0.0
        with:
          name: wharf-report-\${{ matrix.leg.key }}
          path: wharf-reports
          if-no-files-found: error
          retention-days: 7
`

const merge = (action: string) => `# Merges what the registry's policy allows. Runs on the default branch's own
# code, never the pull request's: it judges each pull request's test merge
# again, reads validate's reports as untrusted data (re-validated against the
# report schema), comments, labels, and squash-merges at the judged head.
# A scheduled run merges namespace claims whose waiting period has passed.
#
# Secrets (optional, given only to this job, which runs no pull-request code):
#   WHARF_MERGE_TOKEN  a GitHub App token or PAT to merge with; a merge made with
#                      github.token starts no workflow (no push-triggered release)
#   WHARF_TEAM_TOKEN   a token with members: read, to confirm @org/team owners
name: merge
on:
  workflow_run:
    workflows: [validate]
    types: [completed]
  schedule:
    - cron: '17 * * * *'
permissions: {}
# One merge run at a time: each judges against main as it finds it, and merges onto that main only.
concurrency:
  group: merge
  cancel-in-progress: false
jobs:
  merge:
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      pull-requests: write
      issues: write
      actions: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          ref: main
          persist-credentials: false
      - uses: ${action}
        with:
          command: merge
          merge-token: \${{ secrets.WHARF_MERGE_TOKEN }}
          team-token: \${{ secrets.WHARF_TEAM_TOKEN }}
`

/** The build's output (and its record of builds) as the Actions cache holds it, keyed by the commit it was built from. */
const BUILT_OUTPUT_CACHE = `          path: |
            _site
            ._site.builds
          key: wharf-api-\${{ needs.release.outputs.head }}`

const release = (action: string) => `# Ships what a merge added: each new version's artifact, fetched and checked
# against its record, becomes an asset of a release of this repo, and the
# version's matrix report from the validate run of its pull request (read as
# untrusted data and checked again) is committed under index/reports/ by the
# job's token; then the static API and site of main (download URLs naming
# those assets) are built and deployed to Pages.
# Runs on pushes to main that change the index. A merge made with github.token
# starts no workflow, so merge.yml merges with WHARF_MERGE_TOKEN for this to run.
# Pushes that only touch index/reports/ (the registry's own reports) are
# filtered out by paths, so its report commit never starts it again.
# GitHub cancels a pending run when a newer push queues; the next run ships
# that push's versions too, from refs/wharf/released (the commit up to which
# every version shipped, moved by each complete run).
# The previous output comes back from the Actions cache, keyed by the commit it
# was built from (only main's runs write to main's cache), and build-api
# rebuilds only what changed since; without it, the build runs in full.
#
# Secrets (given only to the build job, which runs no pull-request code):
#   WHARF_REGISTRY_KEY  the registry's private key, which signs the API's snapshot
name: release
on:
  push:
    branches: [main]
    paths:
      - 'index/**'
      - '!index/reports/**'
permissions: {}
concurrency:
  group: release
  cancel-in-progress: false
jobs:
  release:
    runs-on: ubuntu-24.04
    permissions:
      contents: write
      actions: read
      pull-requests: read
    outputs:
      head: \${{ steps.release.outputs.head }}
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
          persist-credentials: false
      - id: release
        uses: ${action}
        with:
          command: release
  build:
    needs: release
    runs-on: ubuntu-24.04
    permissions:
      contents: read
      pages: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          ref: \${{ needs.release.outputs.head }}
          fetch-depth: 0
          persist-credentials: false
      - id: pages
        uses: actions/configure-pages@983d7736d9b0ae728b81ab479565c72886d7745b # v5.0.0
      - id: cache
        uses: actions/cache/restore@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5
        with:
${BUILT_OUTPUT_CACHE}
          restore-keys: wharf-api-
      - uses: ${action}
        with:
          command: build-api
          out: _site
          base-url: \${{ steps.pages.outputs.base_url }}
          registry-key: \${{ secrets.WHARF_REGISTRY_KEY }}
      - if: steps.cache.outputs.cache-hit != 'true'
        uses: actions/cache/save@27d5ce7f107fe9357f9df03efb73ab90386fccae # v5.0.5
        with:
${BUILT_OUTPUT_CACHE}
      - uses: actions/upload-pages-artifact@fc324d3547104276b827a68afc52ff2a11cc49c9 # v5.0.0
        with:
          path: _site
  deploy:
    needs: build
    runs-on: ubuntu-24.04
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: \${{ steps.deploy.outputs.page_url }}
    steps:
      - id: deploy
        uses: actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128 # v5.0.0
`
