/**
 * The `wharf` binary as a user runs it, against build-api output behind
 * nginx: install with its config file and cache, its errors and exit codes,
 * and search, info, list, stats and health against a static host.
 */
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { WHARF, wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { buildTo, createGraphIndex, listFiles, yank } from './helpers.js'

let nginx: Nginx
let out: string
let home: { XDG_CACHE_HOME: string; XDG_CONFIG_HOME: string; WHARF_REGISTRY: string }

beforeAll(async () => {
  const graph = await createGraphIndex()
  out = await buildTo(graph.idx)
  nginx = await startNginx(out)
  home = { XDG_CACHE_HOME: await tempDir('wharf-cache-'), XDG_CONFIG_HOME: await tempDir('wharf-config-'), WHARF_REGISTRY: '' }
}, 120_000)

afterAll(async () => {
  await nginx?.stop()
})

describe('wharf install', () => {
  it('installs, prints JSON when asked, and notes the key it trusts on first use', async () => {
    const cwd = await tempDir('wharf-project-')
    const run = await wharf(['install', 'acme:app@^1', '--registry', nginx.url, '--json'], { cwd, env: home })
    expect(run.code, run.stderr).toBe(0)
    const result = JSON.parse(run.stdout) as { packages: { name: string; version: string; file: string; status: string }[]; lock_changed: boolean }
    expect(result.packages.map((p) => `${p.name}@${p.version}`)).toEqual(['acme:app@1.0.0', 'acme:base@0.1.0', 'acme:lib@1.1.0'])
    expect(result.lock_changed).toBe(true)
    expect(run.stderr).toMatch(/^note: trusting http:\/\/127\.0\.0\.1:\d+ on first use with key [0-9a-f]{16}/)
    expect(await listFiles(cwd)).toEqual(['wasm_components/acme-app-1.0.0.wasm', 'wasm_components/acme-base-0.1.0.wasm', 'wasm_components/acme-lib-1.1.0.wasm', 'wharf.lock'])
  })

  it('reads the registry, its pinned key and the install directory from wharf.toml', async () => {
    const cwd = await tempDir('wharf-project-')
    const key = (JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')) as { keys: { public_key: string }[] }).keys[0]!.public_key
    fs.writeFileSync(path.join(cwd, 'wharf.toml'), `[registry]\nurl = "${nginx.url}"\nkey = "${key}"\n\n[install]\ndir = "components"\n`)
    const run = await wharf(['install', 'acme:calc'], { cwd, env: { ...home, XDG_CACHE_HOME: await tempDir('wharf-cache-') } })
    expect(run.code, run.stderr).toBe(0)
    expect(run.stderr).toBe('')
    expect(run.stdout).toContain(`installed acme:calc@1.0.0  ${path.join('components', 'acme-calc-1.0.0.wasm')}`)
    expect(run.stdout).toMatch(/1 package in components \(1 written, 0 unchanged\) from http:\/\/127\.0\.0\.1:\d+; wharf\.lock updated/)
    expect(fs.existsSync(path.join(cwd, 'components/acme-calc-1.0.0.wasm'))).toBe(true)
  })

  it('exits 1 with one line naming close packages for an unknown one, writing nothing', async () => {
    const cwd = await tempDir('wharf-project-')
    const run = await wharf(['install', 'acme:ap', '--registry', nginx.url], { cwd, env: home })
    expect(run.code).toBe(1)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toContain('acme:ap is not in the registry (did you mean acme:app?)')
    expect(await listFiles(cwd)).toEqual([])
  })

  it('shows progress on a terminal, and clears it before the summary', async () => {
    const cwd = await tempDir('wharf-project-')
    // util-linux's script gives the command a real pseudo-terminal.
    const command = [process.execPath, WHARF, 'install', 'acme:app', '--registry', nginx.url].map((a) => `'${a}'`).join(' ')
    const output = await new Promise<string>((resolve, reject) =>
      execFile('script', ['-qec', command, '/dev/null'], { cwd, env: { ...process.env, ...home, XDG_CACHE_HOME: fs.mkdtempSync(path.join(cwd, 'cache-')) } }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    )
    expect(output).toMatch(/\r\x1b\[2Kinstall: (resolving|downloading) /)
    expect(output).toMatch(/\r\x1b\[2K(installed|3 packages)/)
    expect(output).toContain('3 packages in wasm_components (3 written, 0 unchanged)')
  })

  it('exits 2 when there is nothing to install, and documents itself', async () => {
    const cwd = await tempDir('wharf-project-')
    const run = await wharf(['install', '--registry', nginx.url], { cwd, env: home })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('nothing to install')
    const help = await wharf(['install', '--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain('--frozen')
    expect(help.stdout).toContain('--mirror URL')
  })
})

describe('registry commands against a static host', () => {
  it('search ranks from the static search index; info, list, stats and health read the files', async () => {
    const env = home
    const [search, info, list, stats, health] = await Promise.all(
      [['search', 'calc', '--json'], ['info', 'acme:lib'], ['list'], ['stats'], ['health']].map((args) => wharf([...args, '--registry', nginx.url], { env })),
    )
    expect(search!.code, search!.stderr).toBe(0)
    const found = JSON.parse(search!.stdout) as { packages: { name: string; version: string; sha256: string }[]; total: number }
    expect(found.total).toBe(1)
    expect(found.packages[0]).toMatchObject({ name: 'acme:calc', version: '1.0.0' })

    expect(info!.code, info!.stderr).toBe(0)
    expect(info!.stdout).toContain('acme:lib@2.0.0')
    expect(info!.stdout).toContain('versions    1.0.0, 1.1.0, 1.2.0 (yanked), 2.0.0')

    expect(list!.code, list!.stderr).toBe(0)
    expect(list!.stdout.trim().split('\n').map((l) => l.split(/\s+/)[0])).toEqual(['acme:app@1.0.0', 'acme:base@0.1.0', 'acme:calc@1.0.0', 'acme:lib@2.0.0'])

    expect(stats!.stdout).toContain('4 packages, 7 versions')
    expect(health!.code).toBe(0)
  })

  it('info shows the newest version that is not yanked, as list does', async () => {
    // An index of its own: the other tests read the output built before.
    const own = await createGraphIndex()
    await yank(own.idx, 'acme:lib', '2.0.0')
    const host = await startNginx(await buildTo(own.idx))
    try {
      const [info, list] = await Promise.all([['info', 'acme:lib'], ['list']].map((args) => wharf([...args, '--registry', host.url], { env: home })))
      expect(info!.code, info!.stderr).toBe(0)
      expect(info!.stdout).toMatch(/^acme:lib@1\.1\.0\n/)
      expect(info!.stdout).toContain('versions    1.0.0, 1.1.0, 1.2.0 (yanked), 2.0.0 (yanked)')
      expect(list!.stdout).toMatch(/^acme:lib@1\.1\.0\s/m)
      const pinned = await wharf(['info', 'acme:lib@2.0.0', '--json', '--registry', host.url], { env: home })
      expect(JSON.parse(pinned.stdout)).toMatchObject({ version: '2.0.0', yanked: true })
    } finally {
      await host.stop()
    }
  })
})

describe('credentials', () => {
  it('refuses a credentials file others can read', async () => {
    const config = await tempDir('wharf-config-')
    fs.mkdirSync(path.join(config, 'wharf'))
    const file = path.join(config, 'wharf', 'credentials.toml')
    fs.writeFileSync(file, `[registries."${nginx.url}"]\ntoken = "secret"\n`, { mode: 0o644 })
    fs.chmodSync(file, 0o644)
    const artifact = path.join(config, 'x.wasm')
    fs.writeFileSync(artifact, Buffer.from('0061736d01000000', 'hex'))
    const run = await wharf(['publish', artifact, '--name', 'acme:x', '--version', '1.0.0', '--registry', nginx.url], { env: { ...home, XDG_CONFIG_HOME: config, WHARF_TOKEN: '' } })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(`${file} can be read by others (mode 644)`)
    expect(run.stderr).toContain(`chmod 600 ${file}`)
  })
})
