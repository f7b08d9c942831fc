/**
 * bin/wharf.js runs the bundle when it is current, and otherwise the sources
 * through tsx with one line on stderr saying why and what makes it fast
 * again; with no dependencies at all it says to run npm ci. Each case runs a
 * copy of the checkout arranged that way.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/index-repo.js'

/** A copy of the checkout: bin/, src/, schemas/, package.json, and what `with` asks for. */
async function checkout(withDeps: boolean, withBundle: boolean): Promise<string> {
  const dir = await tempDir('wharf-bin-')
  for (const part of ['bin', 'src', 'schemas', 'package.json']) fs.cpSync(path.resolve(part), path.join(dir, part), { recursive: true })
  if (withDeps) fs.symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'))
  // Copied after the sources, so the bundle is the newer.
  if (withBundle) fs.cpSync(path.resolve('dist'), path.join(dir, 'dist'), { recursive: true })
  return dir
}

function run(dir: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(dir, 'bin', 'wharf.js'), ...args], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr })
    })
  })
}

describe('bin/wharf.js', () => {
  it('runs a current bundle silently', async () => {
    const dir = await checkout(true, true)
    const result = await run(dir, ['--version'])
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^wharf /), stderr: '' })
  })

  it('runs the sources, saying so in one line, when there is no bundle', async () => {
    const dir = await checkout(true, false)
    const result = await run(dir, ['help', 'keygen'])
    expect(result.code).toBe(0)
    expect(result.stdout).toMatch(/^wharf keygen --out FILE/)
    expect(result.stderr).toBe(`wharf: no build in dist/cli; running from source (slower start). \`npm run build\` in ${dir}/ makes it fast again.\n`)
  })

  it('runs the sources when one changed after the build, naming it', async () => {
    const dir = await checkout(true, true)
    const later = new Date(Date.now() + 60_000)
    fs.utimesSync(path.join(dir, 'src/cli/keygen.ts'), later, later)
    const result = await run(dir, ['keygen'])
    expect(result.code).toBe(2)
    expect(result.stderr.split('\n')[0]).toBe(`wharf: src/cli/keygen.ts changed after the build; running from source (slower start). \`npm run build\` in ${dir}/ makes it fast again.`)
    expect(result.stderr.split('\n')[1]).toMatch(/keygen needs --out/)
  })

  it('asks for npm ci when the dependencies are missing too', async () => {
    const dir = await checkout(false, false)
    const result = await run(dir, ['--version'])
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(/its dependencies are not installed\. Run `npm ci` in the wharf checkout\.\n$/)
  })
})
