/**
 * GitHub mode's cost in REST calls, read from the emulator's request log:
 * `wharf publish --github` (straight to the index, again on a re-run, and
 * from a fork) and `wharf release` (first run and re-run), each a whole
 * `wharf` process as a user or a workflow step runs it, with the bare
 * process start (`wharf --version`) beside it so wharf's own time is the
 * difference. Runs on loopback, so the times are wharf's and the
 * emulator's, not the network's.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { startEmulator, type Emulator } from '../test/github/emulator/emulator.js'
import { createTestIndex } from '../test/helpers/index-repo.js'
import { component } from '../test/helpers/wasm.js'
import { table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))

function wharf(args: string[], env: Record<string, string>): Promise<{ ms: number; stdout: string }> {
  const start = performance.now()
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [WHARF, ...args], { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`wharf ${args[0]} failed: ${stderr}`))
      else resolve({ ms: performance.now() - start, stdout })
    })
  })
}

function git(cwd: string, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => execFile('git', args, { cwd }, (e, out, err) => (e ? reject(new Error(err)) : resolve(out))))
}

/** REST calls made since `mark`, with the operations named, most frequent first. */
function calls(emu: Emulator, mark: number): { count: number; writes: number; ops: string } {
  const made = emu.requests.slice(mark)
  const byOp = new Map<string, number>()
  for (const r of made) {
    // A download of a release asset is no REST operation: it is named by its path's kind.
    const op = r.operationId ?? (r.path.startsWith('/_storage/') ? 'storage download' : r.path.includes('/releases/download/') ? 'asset download (302)' : `${r.method} ${r.path}`)
    byOp.set(op, (byOp.get(op) ?? 0) + 1)
  }
  const ops = [...byOp].sort((a, b) => b[1] - a[1]).map(([op, n]) => (n > 1 ? `${op}×${n}` : op)).join(' ')
  return { count: made.length, writes: made.filter((r) => r.method !== 'GET').length, ops }
}

export async function run(): Promise<void> {
  const emu = await startEmulator({ forkDelayMs: 0 })
  const home = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-release-'))
  try {
    emu.createUser('alice')
    emu.createUser('bob')
    const idx = await createTestIndex({ maintainer: 'alice', owners: [{ login: 'alice' }, { login: 'bob' }] })
    const key = path.join(home, 'acme.key')
    await fs.promises.writeFile(key, idx.key.privatePem, { mode: 0o600 })
    await emu.createRepo('alice/registry', { from: idx.dir })
    await emu.createRepo('alice/calc', { files: { 'README.md': '# calc\n' } })
    await emu.createRepo('bob/tool', { files: { 'README.md': '# tool\n' } })
    const env = (token: string) => ({ HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GITHUB_API_URL: emu.urls.api, GITHUB_TOKEN: token })
    const alice = emu.mintToken({ user: 'alice' })
    const bob = emu.mintToken({ user: 'bob' })
    const artifact = path.join(home, 'calc.wasm')
    await fs.promises.writeFile(artifact, component('bench calc'))
    const tool = path.join(home, 'tool.wasm')
    await fs.promises.writeFile(tool, component('bench tool'))

    const rows: Record<string, string | number>[] = []
    const measure = async (what: string, args: string[], token: string) => {
      const mark = emu.requests.length
      const { ms, stdout } = await wharf(args, env(token))
      const made = calls(emu, mark)
      rows.push({ what, 'HTTP requests': made.count, writes: made.writes, 'wall ms': Math.round(ms), operations: made.ops })
      return stdout
    }
    const start = await wharf(['--version'], {})
    rows.push({ what: 'wharf --version (process start)', 'HTTP requests': 0, writes: 0, 'wall ms': Math.round(start.ms), operations: '' })
    const publish = (file: string, from: string, name: string, author: string) => ['publish', file, '--github', 'alice/registry', '--from', from, '--name', name, '--version', '1.0.0', '--key', key, '--author', author, '--json']
    const first = JSON.parse(await measure('publish --github (first)', publish(artifact, 'alice/calc', 'acme:calc', 'alice'), alice)) as { pullRequest: { number: number } }
    await measure('publish --github (re-run)', publish(artifact, 'alice/calc', 'acme:calc', 'alice'), alice)
    await measure('publish --github (from a new fork)', publish(tool, 'bob/tool', 'acme:tool', 'bob'), bob)

    // Merge the first proposal as the merge workflow would, then release the push.
    const repo = { owner: 'alice', repo: 'registry' }
    const before = (await git(emu.requireRepo('alice/registry').dir, 'rev-parse', 'refs/heads/main')).trim()
    const pull = emu.pull('alice/registry', first.pullRequest.number)
    const merged = await fetch(`${emu.urls.api}/repos/${repo.owner}/${repo.repo}/pulls/${pull.number}/merge`, {
      method: 'PUT',
      headers: { authorization: `token ${alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sha: (await git(emu.requireRepo('alice/registry').dir, 'rev-parse', `refs/pull/${pull.number}/head`)).trim(), merge_method: 'squash' }),
    })
    const after = ((await merged.json()) as { sha: string }).sha
    const clone = path.join(home, 'index')
    await git(home, 'clone', '--quiet', emu.cloneUrl('alice/registry').replace('http://', `http://x-access-token:${alice}@`), clone)
    const workflow = emu.mintToken({ permissions: { contents: 'write' }, repositories: ['alice/registry'] })
    const release = ['release', '--github', 'alice/registry', '--index', clone, '--before', before, '--after', after, '--json']
    await measure('release (one version, first run)', release, workflow)
    await measure('release (re-run: nothing to do)', release, workflow)
    table(rows)
    console.log('wharf\'s own time in a step is its wall time less the process start above; the emulator answers on loopback.')
  } finally {
    await emu.close()
    await fs.promises.rm(home, { recursive: true, force: true })
  }
}
