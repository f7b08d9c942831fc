/** Real index repos in temp directories, set up through the same functions the CLI calls. */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { stableJson } from '../../src/core/canonical.js'
import { generateKey, parsePrivateKey, type GeneratedKey } from '../../src/core/keys.js'
import type { Owner, VersionRecord } from '../../src/core/types.js'
import { MAIN, openRepo, resolveCommit, setBranch, writeCommitWith, type FileWrite, type Repo } from '../../src/git/index.js'
import { initIndex, mergeProposal, proposeNamespace, publishToIndex, type PublishOptions } from '../../src/publish/index.js'
import { component } from './wasm.js'

export async function tempDir(prefix = 'wharf-test-'): Promise<string> {
  return fs.promises.mkdtemp(path.join(os.tmpdir(), prefix))
}

export interface TestIndex {
  dir: string
  repo: Repo
  /** alice's key, registered in namespace acme. */
  key: GeneratedKey
  /** Publishes `acme:<name>@<version>` (a component) as alice and returns the proposal. */
  publish(options?: Partial<PublishOptions> & { bytes?: Uint8Array }): ReturnType<typeof publishToIndex>
  /** Publishes and merges; throws if the merge is refused. */
  release(options?: Partial<PublishOptions> & { bytes?: Uint8Array }): Promise<VersionRecord>
  /** Commits `files` on a new branch off main and returns the head commit. */
  submit(files: FileWrite[], author?: string, branch?: string): Promise<string>
  /** Runs the git CLI in the index. */
  git(...args: string[]): string
}

let counter = 0

/** An index with namespace `acme` owned by alice (and her key), claimed and merged. */
export async function createTestIndex(options: { maintainer?: string; owners?: Owner[] } = {}): Promise<TestIndex> {
  const dir = await tempDir()
  await initIndex({ dir, maintainer: options.maintainer ?? 'admin' })
  const repo = openRepo(dir)
  const key = generateKey()
  const claim = await proposeNamespace(repo, { namespace: 'acme', owners: options.owners ?? [{ login: 'alice', id: 1001 }], publicKey: key.publicPem, author: 'alice' })
  const merged = await mergeProposal(repo, { branch: claim.branch, author: { login: 'alice' } })
  if (!merged.merged) throw new Error(`setup: namespace claim refused: ${JSON.stringify(merged.check.findings)}`)

  const publish: TestIndex['publish'] = async (opts = {}) => {
    const file = path.join(dir, '.wharf', `artifact-${++counter}.wasm`)
    await fs.promises.writeFile(file, opts.bytes ?? component(`v${counter}`))
    return publishToIndex(repo, {
      artifact: file,
      name: 'acme:calc',
      version: '1.0.0',
      privateKey: key.privatePem,
      author: 'alice',
      description: 'A calculator',
      license: 'MIT',
      ...opts,
    })
  }
  const git = (...args: string[]) =>
    execFileSync('git', args, {
      cwd: dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_AUTHOR_NAME: 'alice', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'alice', GIT_COMMITTER_EMAIL: 'a@x' },
    })
  return {
    dir,
    repo,
    key,
    publish,
    async release(opts = {}) {
      const proposal = await publish(opts)
      // the submitter is the one who published (alice unless the options say otherwise)
      const result = await mergeProposal(repo, { branch: proposal.branch, author: { login: opts.author ?? 'alice' } })
      if (!result.merged) throw new Error(`release refused: ${JSON.stringify(result.check.findings)}`)
      return proposal.record
    },
    async submit(files, author = 'alice', branch = `submission/${++counter}`) {
      const head = await writeCommitWith(repo, { parents: [await resolveCommit(repo, MAIN)], files, message: 'Submission', author: { login: author } })
      await setBranch(repo, branch, head)
      return head
    },
    git,
  }
}

/** A record file's content, for writing by hand in a submission. */
export function recordFile(record: object): string {
  return stableJson(record)
}

export { parsePrivateKey }
