/** `wharf init`: a new index repo with its registry descriptor, key and artifact store. */
import fs from 'node:fs'
import path from 'node:path'
import { stableJson } from '../core/canonical.js'
import { WharfError } from '../core/errors.js'
import { generateKey, KEY_ALGORITHM } from '../core/keys.js'
import { REGISTRY_KEY_PATH, REGISTRY_PATH } from '../core/layout.js'
import { schemaErrors } from '../core/schemas.js'
import { timestamp } from '../core/time.js'
import { defaultPolicy, type RegistryFile } from '../core/types.js'
import { commitWorkTree, initRepo } from '../git/index.js'
import { writeFileAtomic } from '../store/index.js'
import { indexWorkflows } from './github-workflows.js'

export interface InitOptions {
  dir: string
  /** Login of the first maintainer. */
  maintainer?: string
  /** Registry name; defaults to the directory name. */
  name?: string
  now?: Date
  /** Also write the GitHub workflows (validate, merge) using this Action: `owner/wharf@<40-hex sha>[ # version]`. */
  githubAction?: string
}

export interface InitResult {
  dir: string
  commit: string
  keyId: string
}

export async function initIndex(options: InitOptions): Promise<InitResult> {
  const dir = path.resolve(options.dir)
  if (fs.existsSync(path.join(dir, '.git'))) {
    throw new WharfError('USAGE', `${dir} is already a git repo`, { hint: 'choose an empty directory for the new index' })
  }
  const maintainer = options.maintainer ?? 'admin'
  const now = timestamp(options.now ?? new Date())
  const key = generateKey()
  const registry: RegistryFile = {
    schema: 'wharf:registry/v1',
    name: options.name ?? (path.basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '') || 'local'),
    maintainers: [{ login: maintainer }],
    keys: [{ id: key.id, algorithm: KEY_ALGORITHM, public_key: key.publicKey, added: now }],
    peers: [],
    policy: defaultPolicy(),
  }
  const problems = schemaErrors('registry', registry)
  if (problems.length) throw new WharfError('USAGE', `cannot write ${REGISTRY_PATH}: ${problems.join('; ')}`, { hint: 'check --maintainer and --name' })

  const workflows = options.githubAction !== undefined ? indexWorkflows(options.githubAction) : {}
  const repo = await initRepo(dir)
  await writeFileAtomic(path.join(dir, REGISTRY_KEY_PATH), key.privatePem, 0o600)
  await writeFileAtomic(path.join(dir, REGISTRY_PATH), stableJson(registry))
  await writeFileAtomic(path.join(dir, '.gitignore'), '# the artifact store, keys and locks of this registry\n.wharf/\n')
  for (const [file, text] of Object.entries(workflows)) {
    await fs.promises.mkdir(path.dirname(path.join(dir, file)), { recursive: true })
    await writeFileAtomic(path.join(dir, file), text)
  }
  const commit = await commitWorkTree(repo, [REGISTRY_PATH, '.gitignore', ...Object.keys(workflows)], `Create registry ${registry.name}\n`, { login: maintainer })
  return { dir, commit, keyId: key.id }
}
