/**
 * `wharf check` cost for a one-file submission on a large index next to a
 * small one: the diff skips equal subtrees, so the ratio should stay near 1.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { runCheck } from '../src/check/index.js'
import { stableJson } from '../src/core/canonical.js'
import { generateKey } from '../src/core/keys.js'
import { namespacePath, recordPath } from '../src/core/layout.js'
import { MAIN, openRepo, resolveCommit, setBranch, writeCommitWith, type FileWrite } from '../src/git/index.js'
import { initIndex, mergeProposal, proposeNamespace, publishToIndex } from '../src/publish/index.js'
import { medianMs, table } from './_util.js'

const COMPONENT = Buffer.from('0061736d0d000100', 'hex')

async function buildIndex(packages: number): Promise<{ dir: string; head: string }> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `wharf-bench-check-${packages}-`))
  await initIndex({ dir })
  const repo = openRepo(dir)
  const key = generateKey()
  const claim = await proposeNamespace(repo, { namespace: 'acme', owners: [{ login: 'alice' }], publicKey: key.publicPem })
  await mergeProposal(repo, { branch: claim.branch, author: { login: 'alice' } })
  // The bulk: `packages` records spread over namespaces of 100 packages each, written as one commit.
  const namespaces = Math.max(1, Math.ceil(packages / 100))
  const files: FileWrite[] = []
  const owner = { schema: 'wharf:namespace/v1', owners: [{ login: 'someone' }], keys: [], created_at: '2026-01-01T00:00:00Z' }
  for (let n = 0; n < namespaces; n++) files.push({ path: namespacePath(`ns${n}`), content: stableJson({ ...owner, namespace: `ns${n}` }) })
  for (let i = 0; i < packages; i++) {
    const name = `ns${i % namespaces}:pkg${i}`
    files.push({ path: recordPath(name, '1.0.0'), content: stableJson({ name, version: '1.0.0', i }) })
  }
  const bulk = await writeCommitWith(repo, { parents: [await resolveCommit(repo, MAIN)], files, message: 'bulk', author: { login: 'admin' } })
  await setBranch(repo, MAIN, bulk)
  const artifact = path.join(dir, '.wharf', 'calc.wasm')
  await fs.promises.writeFile(artifact, COMPONENT)
  const proposal = await publishToIndex(repo, { artifact, name: 'acme:calc', version: '1.0.0', privateKey: key.privatePem, author: 'alice' })
  return { dir, head: proposal.head }
}

export async function run(): Promise<void> {
  const rows = []
  let small = 0
  for (const packages of [10, 10_000]) {
    const { dir, head } = await buildIndex(packages)
    const ms = await medianMs(15, async () => {
      const result = await runCheck({ repo: openRepo(dir), base: MAIN, head, author: { login: 'alice' } })
      if (!result.accepted) throw new Error(`bench submission refused: ${JSON.stringify(result.findings)}`)
    })
    if (packages === 10) small = ms
    rows.push({ index: `${packages} packages`, 'check, median ms': ms.toFixed(1), 'ratio to 10 packages': (ms / small).toFixed(2) })
    await fs.promises.rm(dir, { recursive: true, force: true })
  }
  table(rows)
}
