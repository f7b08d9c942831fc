/**
 * What lives in REGISTRY_DATA_DIR, and taking it over on start:
 *
 *   index/                 the index repo (main checked out), with its key and artifact store under .wharf/
 *   public/                the generated API, served as static files
 *   state/admin-token      the generated admin token (mode 0600)
 *   state/journal/         one file per write in flight, for recovery after a crash
 *   state/downloads.json   download counters
 *   state/built.json       the commit the API in public/ was built from
 *   state/tests/           WasmRust test jobs and their reports
 *   state/serve.pid        the process serving this directory
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { branchExists, MAIN, openRepo, processAlive } from '../git/index.js'
import { initIndex } from '../publish/index.js'
import { writeFileAtomic } from '../store/index.js'

export interface DataDir {
  root: string
  index: string
  public: string
  state: string
  journal: string
  tests: string
  adminTokenFile: string
  downloadsFile: string
  builtFile: string
  pidFile: string
}

export function dataDirLayout(root: string): DataDir {
  const abs = path.resolve(root)
  const state = path.join(abs, 'state')
  return {
    root: abs,
    index: path.join(abs, 'index'),
    public: path.join(abs, 'public'),
    state,
    journal: path.join(state, 'journal'),
    tests: path.join(state, 'tests'),
    adminTokenFile: path.join(state, 'admin-token'),
    downloadsFile: path.join(state, 'downloads.json'),
    builtFile: path.join(state, 'built.json'),
    pidFile: path.join(state, 'serve.pid'),
  }
}

/** Claims the data dir for this process; a dead holder's claim is taken over. Returns the release function. */
export async function claimDataDir(layout: DataDir): Promise<() => void> {
  await fs.promises.mkdir(layout.state, { recursive: true })
  for (;;) {
    try {
      await fs.promises.writeFile(layout.pidFile, String(process.pid), { flag: 'wx' })
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
      const holder = Number(await fs.promises.readFile(layout.pidFile, 'utf8').catch(() => ''))
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && processAlive(holder)) {
        throw new WharfError('LOCKED', `${layout.root} is served by process ${holder}`, { hint: 'stop that server first, or set REGISTRY_DATA_DIR to another directory' })
      }
      await fs.promises.rm(layout.pidFile, { force: true })
    }
  }
  return () => fs.rmSync(layout.pidFile, { force: true })
}

/** Creates the index repo on first start (named `name`, default "local"); an index whose creation was cut short is made again. */
export async function ensureIndex(layout: DataDir, name = 'local'): Promise<{ created: boolean }> {
  if (fs.existsSync(path.join(layout.index, '.git'))) {
    if (await branchExists(openRepo(layout.index), MAIN)) return { created: false }
    // `wharf init` never finished (no first commit): nothing was ever published here.
    await fs.promises.rm(layout.index, { recursive: true, force: true })
  }
  await initIndex({ dir: layout.index, maintainer: 'admin', name })
  return { created: true }
}

/** The admin token: configured, else stored, else made now and stored with mode 0600. */
export async function ensureAdminToken(layout: DataDir, configured: string | undefined): Promise<{ token: string; generated: boolean }> {
  if (configured) return { token: configured, generated: false }
  const stored = await fs.promises.readFile(layout.adminTokenFile, 'utf8').catch(() => '')
  if (stored.trim()) return { token: stored.trim(), generated: false }
  const token = `wharf_${randomBytes(24).toString('base64url')}`
  await writeFileAtomic(layout.adminTokenFile, `${token}\n`, 0o600)
  return { token, generated: true }
}
