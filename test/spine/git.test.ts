/**
 * The git layer, checked against the git CLI: random histories of
 * additions, edits, deletions, mode changes and file/directory swaps must diff
 * exactly as `git diff --raw` says.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { diffCommits, fetchRef, initRepo, listDir, readFileAt, walkFiles, writeCommitWith, type FileWrite } from '../../src/git/index.js'
import { Recent } from '../../src/git/objects.js'
import { tempDir } from '../helpers/index-repo.js'

function gitRaw(dir: string, base: string, head: string): string[] {
  const out = execFileSync('git', ['-C', dir, 'diff', '--raw', '--no-renames', '-z', '--no-abbrev', base, head], { encoding: 'utf8' })
  const fields = out.split('\0').filter(Boolean)
  const rows: string[] = []
  for (let i = 0; i < fields.length; i += 2) {
    const [oldMode, newMode, oldOid, newOid, status] = fields[i]!.slice(1).split(' ')
    const file = fields[i + 1]!
    const kind = status === 'A' ? 'added' : status === 'D' ? 'deleted' : 'modified'
    // git reports a type change (file <-> symlink) as T; ours is a modification with both modes
    rows.push(`${kind} ${file} ${kind === 'added' ? '' : `${oldMode}:${oldOid}`} ${kind === 'deleted' ? '' : `${newMode}:${newOid}`}`)
  }
  return rows.sort()
}

const PATHS = ['a.json', 'index/x.json', 'index/y.json', 'index/p/q/r.json', 'index/p/s.json', 'index/p', 'index/deep/er/still/f.json', 'z']
const MODES = ['100644', '100755', '120000'] as const

const operation = fc.record({
  path: fc.constantFrom(...PATHS),
  content: fc.option(fc.constantFrom('one', 'two', 'three'), { nil: null, freq: 4 }),
  mode: fc.constantFrom(...MODES),
})

describe('diffCommits', () => {
  it('agrees with git diff --raw on random histories', async () => {
    const dir = await tempDir()
    const repo = await initRepo(dir)
    let n = 0
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { maxLength: 6 }), fc.array(operation, { minLength: 1, maxLength: 6 }), async (first, second) => {
        const base = await commitOps(repo, undefined, first, ++n)
        const head = await commitOps(repo, base, second, ++n)
        const ours = (await diffCommits(repo, base, head)).map(
          (c) => `${c.status} ${c.path} ${c.oldMode ? `${c.oldMode}:${c.oldOid}` : ''} ${c.mode ? `${c.mode}:${c.oid}` : ''}`,
        )
        expect(ours.sort()).toEqual(gitRaw(dir, base, head))
      }),
      { numRuns: 60 },
    )
  })

  it('reads only the subtrees that changed', async () => {
    const dir = await tempDir()
    const repo = await initRepo(dir)
    const files: FileWrite[] = []
    for (let i = 0; i < 200; i++) files.push({ path: `index/packages/ns${i % 20}/pkg${i}/1.0.0.json`, content: `{"i":${i}}` })
    const base = await writeCommitWith(repo, { parents: [], files, message: 'many', author: { login: 'a' } })
    const head = await writeCommitWith(repo, { parents: [base], files: [{ path: 'index/packages/ns3/pkg3/2.0.0.json', content: '{}' }], message: 'one', author: { login: 'a' } })
    const reads = countTreeReads(dir)
    const changes = await diffCommits({ dir, cache: {} }, base, head)
    expect(changes.map((c) => c.path)).toEqual(['index/packages/ns3/pkg3/2.0.0.json'])
    // per side: the commit, then root, index, packages, ns3, pkg3: 12 objects of the 400+ in the repo
    expect(reads.stop()).toBeLessThanOrEqual(12)
  })
})

describe('commits without a work tree', () => {
  it('writes nested files, removes them, and prunes empty directories', async () => {
    const dir = await tempDir()
    const repo = await initRepo(dir)
    const c1 = await writeCommitWith(repo, { parents: [], files: [{ path: 'a/b/c.json', content: '1' }, { path: 'a/d.json', content: '2' }], message: 'm', author: { login: 'x' } })
    const c2 = await writeCommitWith(repo, { parents: [c1], files: [{ path: 'a/b/c.json', content: null }], message: 'm', author: { login: 'x' } })
    expect(Buffer.from((await readFileAt(repo, c2, 'a/d.json'))!).toString()).toBe('2')
    expect(await readFileAt(repo, c2, 'a/b/c.json')).toBeUndefined()
    expect((await listDir(repo, c2, 'a'))!.map((e) => e.name)).toEqual(['d.json'])
    expect((await walkFiles(repo, c1, '')).map((f) => f.path)).toEqual(['a/b/c.json', 'a/d.json'])
    // git itself finds the objects well formed
    execFileSync('git', ['-C', dir, 'fsck', '--strict', '--no-dangling'], { stdio: 'pipe' })
    expect(execFileSync('git', ['-C', dir, 'ls-tree', '-r', '--name-only', c2], { encoding: 'utf8' }).trim()).toBe('a/d.json')
  })
})

async function commitOps(repo: { dir: string; cache: object }, parent: string | undefined, ops: { path: string; content: string | null; mode: string }[], n: number) {
  // Later operations win; a path that is a directory prefix of another cannot be a file in the same tree.
  const byPath = new Map<string, FileWrite>()
  for (const op of ops) byPath.set(op.path, { path: op.path, content: op.content, mode: op.mode })
  const existing = parent ? new Set((await walkFiles(repo, parent, '')).map((f) => f.path)) : new Set<string>()
  const files = [...byPath.values()].filter((f) => {
    const all = [...existing, ...[...byPath.values()].filter((g) => g.content !== null).map((g) => g.path)]
    return !all.some((other) => other !== f.path && (other.startsWith(`${f.path}/`) || f.path.startsWith(`${other}/`)))
  })
  return writeCommitWith(repo, { parents: parent ? [parent] : [], files, message: `c${n}`, author: { login: 'prop', timestamp: 1_700_000_000 + n } })
}

/** Counts the objects the reader reads, by watching the object files it opens. */
function countTreeReads(dir: string) {
  const original = fs.readFileSync
  let count = 0
  const objects = path.join(dir, '.git', 'objects')
  fs.readFileSync = ((file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    if (typeof file === 'string' && file.startsWith(objects)) count++
    return (original as (...args: unknown[]) => unknown)(file, ...rest)
  }) as typeof fs.readFileSync
  return {
    stop() {
      fs.readFileSync = original
      return count
    },
  }
}

describe("the object reader's caches (Recent)", () => {
  it('keep the newest entries within a count and a weight, oldest out first, and never one heavier than the budget', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 120 })), { maxLength: 300 }),
        (size, budget, puts) => {
          const recent = new Recent<number, number>(size, budget, (w) => w)
          // The model: keys in the order first put (a put again keeps the place), newest last.
          let model: [number, number][] = []
          for (const [key, weight] of puts) {
            recent.set(key, weight)
            if (weight > budget) continue
            const at = model.findIndex(([k]) => k === key)
            if (at >= 0) model[at] = [key, weight]
            else model.push([key, weight])
            while (model.length > size || model.reduce((sum, [, w]) => sum + w, 0) > budget) model = model.slice(1)
          }
          for (let key = 0; key <= 12; key++) expect(recent.get(key)).toBe(model.find(([k]) => k === key)?.[1])
          expect(recent.weighs).toBe(model.reduce((sum, [, w]) => sum + w, 0))
        },
      ),
      { numRuns: 500 },
    )
  })

  it('drop the oldest of many, with the queue behind them compacted', () => {
    const recent = new Recent<number, string>(3)
    for (let i = 0; i < 5000; i++) recent.set(i, `v${i}`)
    expect([4996, 4997, 4998, 4999].map((k) => recent.get(k))).toEqual([undefined, 'v4997', 'v4998', 'v4999'])
  })
})

describe('fetchRef and its credential', () => {
  it('sends the token as GitHub checkout does, and never puts it in an error, even one without stderr', async () => {
    const seen: (string | undefined)[] = []
    const server = http.createServer((req, res) => {
      seen.push(req.headers.authorization)
      res.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const repo = await initRepo(await tempDir('wharf-fetch-'))
    const secret = Buffer.from('x-access-token:s3cret-token').toString('base64')
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/index.git`
      const refused = await fetchRef(repo, { remote: url, ref: 'refs/pull/1/merge', token: 's3cret-token' }).catch((e: Error) => e)
      expect(seen[0]).toBe(`basic ${secret}`)
      expect(String(refused)).not.toContain(secret)
      // Killed by its timeout, git says nothing on stderr: the message is the command line, which must not hold it either.
      const killed = await fetchRef(repo, { remote: url, ref: 'refs/pull/1/merge', token: 's3cret-token', timeoutMs: 1 }).catch((e: Error) => e)
      expect(killed).toBeInstanceOf(Error)
      expect(String(killed)).not.toContain(secret)
      expect(String(killed)).not.toContain('s3cret-token')
    } finally {
      server.close()
    }
  })
})
