/** Every workflow this repo ships passes the safety lint, and the lint catches each unsafe shape. */
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { lintWorkflow } from './workflow-lint.js'

const ROOT = path.resolve(import.meta.dirname, '../..')
const DIR = path.join(ROOT, '.github/workflows')

describe('the workflows wharf ships', () => {
  const files = fs.readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f))
  it('include validate, merge and release beside ci', () => {
    expect(files.sort()).toEqual(expect.arrayContaining(['ci.yml', 'merge.yml', 'release.yml', 'validate.yml']))
  })
  for (const file of files) {
    it(`${file} passes the safety lint`, async () => {
      expect(await lintWorkflow(file, fs.readFileSync(path.join(DIR, file), 'utf8'))).toEqual([])
    })
  }
})

describe('the safety lint', () => {
  const SHA = '11bd71901bbe5b1630ceea73d27597364c9af683'
  const wf = (on: string, job: string) => `name: t\non: ${on}\njobs:\n  j:\n    runs-on: ubuntu-24.04\n${job}`
  const cases: Array<[string, string, RegExp]> = [
    ['no permissions on a job', wf('push', `    steps:\n      - run: echo\n`), /sets no permissions/],
    ['an action pinned by tag', wf('push', `    permissions: {}\n    steps:\n      - uses: actions/checkout@v4\n`), /not pinned/],
    ['an action pinned by a short sha', wf('push', `    permissions: {}\n    steps:\n      - uses: actions/checkout@11bd719\n`), /not pinned/],
    [
      'pull_request_target checking out the head',
      wf('pull_request_target', `    permissions: {}\n    steps:\n      - uses: actions/checkout@${SHA}\n        with:\n          ref: \${{ github.event.pull_request.head.sha }}\n`),
      /checks out the pull request on pull_request_target/,
    ],
    ['pull-request code with a write permission', wf('pull_request', `    permissions:\n      contents: write\n    steps:\n      - uses: actions/checkout@${SHA}\n      - run: make\n`), /holds contents: write/],
    ['pull-request code with write-all', wf('pull_request', `    permissions: write-all\n    steps:\n      - uses: actions/checkout@${SHA}\n      - uses: ./\n`), /holds write-all/],
    ['pull-request code with a secret', wf('pull_request', `    permissions: {}\n    steps:\n      - uses: actions/checkout@${SHA}\n      - run: make\n        env:\n          T: \${{ secrets.DEPLOY }}\n`), /reads a secret/],
  ]
  for (const [name, content, problem] of cases) {
    it(`refuses ${name}`, async () => {
      const problems = await lintWorkflow('t.yml', content)
      expect(problems.map((p) => p.problem)).toContainEqual(expect.stringMatching(problem))
    })
  }
  it('lets a read-only pull-request job and a trusted write job through', async () => {
    const ok = wf('pull_request', `    permissions:\n      contents: read\n    steps:\n      - uses: actions/checkout@${SHA}\n      - run: make\n`)
    expect(await lintWorkflow('t.yml', ok)).toEqual([])
  })
})
