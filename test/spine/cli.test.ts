/** The honest local flow and its refusals, through the real `wharf` binary. */
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { wharf } from '../helpers/cli.js'
import { tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'

let work: string
let index: string

beforeAll(async () => {
  work = await tempDir()
  index = path.join(work, 'index')
  fs.writeFileSync(path.join(work, 'calc.wasm'), component('calc'))
})

describe('the honest flow', () => {
  it('init, keygen, namespace add + merge, publish + merge, audit', async () => {
    const init = await wharf(['init', index, '--maintainer', 'admin', '--json'])
    expect(init.code, init.stderr).toBe(0)
    expect(JSON.parse(init.stdout)).toMatchObject({ dir: index, key_id: expect.stringMatching(/^[0-9a-f]{16}$/) })

    const keygen = await wharf(['keygen', '--out', path.join(work, 'alice.key')])
    expect(keygen.code, keygen.stderr).toBe(0)
    expect(keygen.stdout.trim()).toMatch(/^[0-9a-f]{16}$/)
    expect(fs.statSync(path.join(work, 'alice.key')).mode & 0o777).toBe(0o600)

    const claim = await wharf(['namespace', 'add', 'acme', '--owner', 'alice:1001', '--key', path.join(work, 'alice.key.pub'), '--index', index, '--json'])
    expect(claim.code, claim.stderr).toBe(0)
    expect(JSON.parse(claim.stdout)).toMatchObject({ branch: 'namespace/acme', base: expect.any(String), head: expect.any(String) })
    expect((await wharf(['merge', '--branch', 'namespace/acme', '--author', 'alice', '--index', index])).code).toBe(0)

    const publish = await wharf([
      'publish', path.join(work, 'calc.wasm'), '--name', 'acme:calc', '--version', '0.1.0', '--key', path.join(work, 'alice.key'),
      '--author', 'alice', '--description', 'A calculator', '--license', 'MIT', '--index', index, '--json',
    ])
    expect(publish.code, publish.stderr).toBe(0)
    const proposal = JSON.parse(publish.stdout)
    expect(proposal).toMatchObject({ branch: 'publish/acme/calc/0.1.0', record: { name: 'acme:calc', version: '0.1.0', kind: 'component' } })

    const check = await wharf(['check', '--index', index, '--base', 'main', '--head', proposal.branch, '--author', 'alice:1001', '--json'])
    expect(check.code, check.stdout).toBe(0)
    expect(JSON.parse(check.stdout)).toMatchObject({ accepted: true, author: { login: 'alice', id: 1001 }, findings: [] })

    const merge = await wharf(['merge', '--branch', proposal.branch, '--author', 'alice', '--index', index])
    expect(merge.code, merge.stdout + merge.stderr).toBe(0)
    expect(fs.existsSync(path.join(index, 'index/packages/acme/calc/0.1.0.json'))).toBe(true)

    const audit = await wharf(['audit', '--index', index, '--json'])
    expect(audit.code, audit.stdout).toBe(0)
    expect(JSON.parse(audit.stdout)).toMatchObject({ ok: true, records: 1, violations: [] })
  })

  it('refuses a non-owner with exit 1 and a message that says how to fix it', async () => {
    const publish = await wharf([
      'publish', path.join(work, 'calc.wasm'), '--name', 'acme:calc', '--version', '0.2.0', '--key', path.join(work, 'alice.key'), '--author', 'mallory', '--index', index, '--json',
    ])
    expect(publish.code, publish.stderr).toBe(0)
    const branch = JSON.parse(publish.stdout).branch
    const check = await wharf(['check', '--index', index, '--base', 'main', '--head', branch, '--author', 'mallory'])
    expect(check.code).toBe(1)
    expect(check.stdout).toContain('[namespace/not-owner] mallory is not an owner of namespace "acme"')
    expect(check.stdout).toMatch(/fix: .*ask an owner/)
    const markdown = await wharf(['check', '--index', index, '--base', 'main', '--head', branch, '--author', 'mallory', '--markdown'])
    expect(markdown.stdout).toContain('| `namespace/not-owner` |')
    const annotated = await wharf(['check', '--index', index, '--base', 'main', '--head', branch, '--author', 'mallory'], { env: { GITHUB_ACTIONS: 'true' } })
    // One workflow command per finding, naming its file and rule (@actions/core writes the title first).
    expect(annotated.stdout).toContain('::error title=namespace/not-owner,file=index/packages/acme/calc/0.2.0.json::mallory is not an owner')
    // With --json, stdout is the JSON alone, in Actions too.
    const json = await wharf(['check', '--index', index, '--base', 'main', '--head', branch, '--author', 'mallory', '--json'], { env: { GITHUB_ACTIONS: 'true' } })
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stdout)).toMatchObject({ accepted: false, findings: [{ rule: 'namespace/not-owner' }] })
    const merge = await wharf(['merge', '--branch', branch, '--author', 'mallory', '--index', index])
    expect(merge.code).toBe(1)
    expect(fs.existsSync(path.join(index, 'index/packages/acme/calc/0.2.0.json'))).toBe(false)
  })

  it('writes the Markdown summary to GITHUB_STEP_SUMMARY', async () => {
    const summary = path.join(work, 'summary.md')
    fs.writeFileSync(summary, '')
    const result = await wharf(['check', '--index', index, '--base', 'main~1', '--head', 'main', '--author', 'alice'], { env: { GITHUB_STEP_SUMMARY: summary } })
    expect(result.code).toBe(0)
    expect(fs.readFileSync(summary, 'utf8')).toContain('### wharf check: ✅ accepted')
  })
})

describe('usage', () => {
  it.each([
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['check', '--index', '/nonexistent', '--base', 'main', '--head', 'main'], 2, /is not an index repo.*wharf init/],
    [['publish', 'x.wasm', '--name', 'acme:calc'], 2, /needs --version/],
    [['publish', 'x.wasm', '--name', 'Acme:calc', '--version', '1.0.0', '--key', 'k'], 2, /namespace "Acme" must start with a lower-case letter/],
    [['keygen'], 2, /keygen needs --out/],
    [['audit', '--frob'], 2, /Unknown option '--frob'/],
    [['check', '--base', 'main', '--head', 'main', '--author', 'alice', '--json', '--markdown'], 2, /check prints JSON or Markdown, not both/],
  ])('wharf %j exits %i with one line on stderr', async (args, code, message) => {
    const result = await wharf(args, { cwd: index })
    expect(result.code).toBe(code)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('refuses to republish a version with exit 1', async () => {
    const result = await wharf(['publish', path.join(work, 'calc.wasm'), '--name', 'acme:calc', '--version', '0.1.0+again', '--key', path.join(work, 'alice.key'), '--index', index])
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/acme:calc@0.1.0 is already published \(versions are immutable; bump the version\)/)
  })
})

describe('exit codes and errors as data', () => {
  it('prints an error under --json as one JSON object on stderr', async () => {
    const result = await wharf(['keygen', '--json'])
    expect(result.code).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(result.stderr)).toEqual({ error: 'keygen needs --out', code: 'USAGE', hint: 'see `wharf keygen --help`' })
    // An unknown command too: the script asked for JSON before wharf knew the command.
    const unknown = await wharf(['frobnicate', '--json'])
    expect(unknown.code).toBe(2)
    expect(JSON.parse(unknown.stderr)).toEqual({ error: 'unknown command "frobnicate"', code: 'USAGE', hint: 'see `wharf --help`' })
  })

  it('exits 3, not 1, when a registry fails with a 500', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: 'internal error', code: 'INTERNAL' }))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const result = await wharf(['stats', '--registry', url, '--json'])
      expect(result.code).toBe(3)
      expect(JSON.parse(result.stderr)).toMatchObject({ code: 'REMOTE', error: 'stats: internal error' })
    } finally {
      server.close()
    }
  })
})
