/**
 * The work directory of a crate's build is removed even when the crate's
 * build script or tests left directories no one but root may empty (0555,
 * 0000). CI runs as root, which any mode lets through, so the removal runs
 * as nobody there (setpriv), as it would for a person running wharf test.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { removeTree } from '../../src/store/index.js'

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

/** Runs `code` (an ES module body with `removeTree` and `fs` in scope) as nobody, or here when not root; its stdout. */
async function runAsUser(dir: string, code: string): Promise<string> {
  if (!asRoot) {
    const fn = new Function('removeTree', 'fs', `return (async () => { let out = ''; const print = (s) => { out += s }; ${code}; return out })()`)
    return (await fn(removeTree, fs)) as string
  }
  const bundle = path.join(dir, 'remove.mjs')
  await build({ entryPoints: [path.resolve('src/store/remove.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'warning' })
  const script = path.join(dir, 'run.mjs')
  fs.writeFileSync(script, `import fs from 'node:fs'\nimport { removeTree } from './remove.mjs'\nconst print = (s) => process.stdout.write(s)\n${code}\n`)
  return execFileSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', process.execPath, script], { encoding: 'utf8' })
}

describe('removing a work directory a crate wrote into', () => {
  it('empties directories left without write or search permission, and follows no link out', async () => {
    const root = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-remove-'))
    const work = path.join(root, 'work')
    const outside = path.join(root, 'outside')
    fs.mkdirSync(path.join(outside, 'kept'), { recursive: true })
    fs.writeFileSync(path.join(outside, 'kept', 'file'), 'not the crate\'s')
    for (const [dir, mode] of [['locked', 0o555], ['sealed', 0o000], ['locked/deeper', 0o500]] as const) {
      fs.mkdirSync(path.join(work, dir), { recursive: true })
      fs.writeFileSync(path.join(work, dir, 'file'), dir)
    }
    fs.symlinkSync(outside, path.join(work, 'link'))
    // The work directory is the user's, in a directory of theirs (a temporary one).
    if (asRoot) execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, root])
    for (const [dir, mode] of [['locked/deeper', 0o500], ['locked', 0o555], ['sealed', 0o000]] as const) fs.chmodSync(path.join(work, dir), mode)
    fs.chmodSync(path.join(outside, 'kept'), 0o555)

    const code = (remove: string) => `try { await ${remove}(${JSON.stringify(work)}); print('removed') } catch (e) { print(e.code) }`
    // What a plain recursive remove gives the same user: the reason for removeTree.
    expect(await runAsUser(root, code('((d) => fs.promises.rm(d, { recursive: true, force: true }))'))).toBe('EACCES')
    expect(await runAsUser(root, code('removeTree'))).toBe('removed')
    expect(fs.existsSync(work)).toBe(false)
    expect(fs.readFileSync(path.join(outside, 'kept', 'file'), 'utf8')).toBe("not the crate's")
    expect(fs.statSync(path.join(outside, 'kept')).mode & 0o777).toBe(0o555)
    fs.chmodSync(path.join(outside, 'kept'), 0o755)
    await fs.promises.rm(root, { recursive: true, force: true })
  })
})
