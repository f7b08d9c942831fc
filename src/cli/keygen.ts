import fs from 'node:fs'
import { WharfError } from '../core/errors.js'
import { generateKey } from '../core/keys.js'
import { writeFileAtomic } from '../store/index.js'
import { JSON_OPTION, printJson, required, type Command } from './command.js'

export const keygen: Command = {
  help: `wharf keygen --out FILE [--force] [--json]

Writes the private key to FILE (mode 0600) and the public key to FILE.pub, and
prints the key id. Register FILE.pub with \`wharf namespace add\`; sign with FILE.

  --out FILE   where to write the private key
  --force      overwrite an existing FILE
  --json       print {id, private, public}`,
  options: { out: { type: 'string' }, force: { type: 'boolean' }, ...JSON_OPTION },
  async run({ values }, io) {
    const out = required(values, 'out', 'keygen')
    if (!values.force && fs.existsSync(out)) {
      throw new WharfError('USAGE', `${out} already exists`, { hint: 'choose another --out, or pass --force to replace the key' })
    }
    const key = generateKey()
    await writeFileAtomic(out, key.privatePem, 0o600)
    await writeFileAtomic(`${out}.pub`, key.publicPem)
    if (values.json) printJson(io, { id: key.id, private: out, public: `${out}.pub` })
    else io.stdout(`${key.id}\n`)
    return 0
  },
}
