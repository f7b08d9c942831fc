/** `wharf audit` on honest and rewritten histories. */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { auditIndex } from '../../src/audit/index.js'
import { stableJson } from '../../src/core/canonical.js'
import { generateKey } from '../../src/core/keys.js'
import { namespacePath, recordPath } from '../../src/core/layout.js'
import type { NamespaceFile } from '../../src/core/types.js'
import { MAIN, readJsonAt, resolveCommit } from '../../src/git/index.js'
import { createTestIndex } from '../helpers/index-repo.js'

describe('wharf audit', () => {
  it('passes an honest history of claims, releases, key rotation and merges', async () => {
    const idx = await createTestIndex()
    await idx.release({ version: '1.0.0' })
    // a proposal made before another merge lands as a merge commit
    const late = await idx.publish({ version: '1.2.0' })
    await idx.release({ version: '1.1.0' })
    const { mergeProposal } = await import('../../src/publish/index.js')
    expect((await mergeProposal(idx.repo, { branch: late.branch, author: { login: 'alice' } })).merged).toBe(true)
    const result = await auditIndex(idx.repo)
    expect(result).toMatchObject({ ok: true, records: 3, violations: [] })
    expect(result.commits).toBeGreaterThanOrEqual(5)
  })

  it('fails on a record edited in a later commit, naming the commit and file', async () => {
    const idx = await createTestIndex()
    await idx.release({ version: '1.0.0' })
    const file = recordPath('acme:calc', '1.0.0')
    const record = JSON.parse(fs.readFileSync(path.join(idx.dir, file), 'utf8'))
    fs.writeFileSync(path.join(idx.dir, file), stableJson({ ...record, description: 'quietly changed' }))
    idx.git('commit', '-qam', 'Fix typo')
    const rewrite = (await resolveCommit(idx.repo, MAIN))
    const result = await auditIndex(idx.repo)
    expect(result.ok).toBe(false)
    expect(result.violations).toEqual([{ commit: rewrite, file, message: expect.stringMatching(/modified .*immutable/) }])
  })

  it('fails on records that do not verify, deletions, non-owner namespace edits and non-maintainer changes outside index/', async () => {
    const idx = await createTestIndex()
    await idx.release({ version: '1.0.0' })
    const ns = (await readJsonAt<NamespaceFile>(idx.repo, MAIN, namespacePath('acme')))!
    const stranger = generateKey()
    const bad = await idx.publish({ version: '2.0.0', privateKey: stranger.privatePem })
    idx.git('merge', '-q', '--ff-only', bad.branch)
    idx.git('rm', '-q', recordPath('acme:calc', '1.0.0'))
    idx.git('commit', '-qm', 'Remove')
    fs.writeFileSync(path.join(idx.dir, 'README.md'), 'hello\n')
    idx.git('add', '-A')
    idx.git('commit', '-qm', 'Readme')
    fs.writeFileSync(path.join(idx.dir, namespacePath('acme')), stableJson({ ...ns, owners: [{ login: 'mallory' }] }))
    execFileSync('git', ['-C', idx.dir, '-c', 'user.name=mallory', '-c', 'user.email=m@x', 'commit', '-qam', 'Take over'], {
      env: { ...process.env, GIT_AUTHOR_NAME: 'mallory', GIT_COMMITTER_NAME: 'mallory' },
    })
    const result = await auditIndex(idx.repo)
    expect(result.ok).toBe(false)
    const messages = result.violations.map((v) => `${v.file}: ${v.message}`)
    expect(messages).toEqual([
      expect.stringMatching(/2\.0\.0\.json: signature does not verify .*not one of the trusted keys/),
      expect.stringMatching(/1\.0\.0\.json: a commit without a Wharf-Submitter trailer deleted/),
      expect.stringMatching(/README\.md: a commit without a Wharf-Submitter trailer changed README\.md, which only a maintainer may change/),
      // the author name says mallory; without wharf's trailer no one is an owner
      expect.stringMatching(/acme\.json: a commit without a Wharf-Submitter trailer modified .*immutable/),
    ])
  })
})
