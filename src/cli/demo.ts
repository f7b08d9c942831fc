/**
 * `wharf demo` (what `npm start` runs until `wharf serve` exists): the whole
 * local flow in a fresh directory, printed step by step.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { auditIndex } from '../audit/index.js'
import { generateKey } from '../core/keys.js'
import { openRepo } from '../git/index.js'
import { initIndex, mergeProposal, proposeNamespace, publishToIndex } from '../publish/index.js'
import { JSON_OPTION, optionalString, type Command } from './command.js'

// (module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
const ADD_MODULE = Buffer.from('0061736d0100000001070160027f7f017f030201000707010361646400000a09010700200020016a0b', 'hex')

export const demo: Command = {
  name: ['demo'],
  summary: 'run the local publish flow end to end in a new directory',
  help: `wharf demo [--dir DIR]

Creates an index in DIR (default: a new temporary directory), claims a
namespace, publishes a small wasm module, merges both proposals and audits the
history, printing each step and the commands that do the same by hand.

  --dir DIR   where to create the index`,
  options: { dir: { type: 'string' }, ...JSON_OPTION },
  async run({ values }, io) {
    const dir = optionalString(values, 'dir') ?? (await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-demo-')))
    const step = (text: string) => io.stdout(`• ${text}\n`)
    await initIndex({ dir, maintainer: 'admin' })
    step(`wharf init ${dir}`)
    const repo = openRepo(dir)
    const key = generateKey()
    const keyFile = path.join(dir, '.wharf', 'demo.key')
    await fs.promises.writeFile(keyFile, key.privatePem, { mode: 0o600 })
    await fs.promises.writeFile(`${keyFile}.pub`, key.publicPem)
    step(`wharf keygen --out ${keyFile}          → key ${key.id}`)
    const claim = await proposeNamespace(repo, { namespace: 'demo', owners: [{ login: 'alice' }], publicKey: key.publicPem })
    step(`wharf namespace add demo --owner alice --key ${keyFile}.pub --index ${dir}   → ${claim.branch}`)
    const claimed = await mergeProposal(repo, { branch: claim.branch })
    step(`wharf merge --branch ${claim.branch} --index ${dir}   → ${claimed.merged ? 'merged' : 'refused'}`)
    const wasm = path.join(dir, '.wharf', 'add.wasm')
    await fs.promises.writeFile(wasm, ADD_MODULE)
    const published = await publishToIndex(repo, {
      artifact: wasm,
      name: 'demo:add',
      version: '0.1.0',
      privateKey: key.privatePem,
      author: 'alice',
      description: 'Adds two numbers',
      license: 'MIT',
    })
    step(`wharf publish ${wasm} --name demo:add --version 0.1.0 --key ${keyFile} --author alice --index ${dir}   → ${published.branch}`)
    const merged = await mergeProposal(repo, { branch: published.branch })
    step(`wharf merge --branch ${published.branch} --index ${dir}   → ${merged.merged ? 'merged' : 'refused'}`)
    const audit = await auditIndex(repo)
    step(`wharf audit --index ${dir}   → ${audit.ok ? 'ok' : 'FAILED'} (${audit.commits} commits, ${audit.records} records)`)
    io.stdout(`\nThe index is at ${dir}; its record is index/packages/demo/add/0.1.0.json.\n`)
    return claimed.merged && merged.merged && audit.ok ? 0 : 1
  },
}
