/** Real `wharf serve` instances for tests: in-process on port 0, or as a child process that can be killed. */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { startServer, type RunningServer, type ServeConfig } from '../../src/serve/index.js'
import { tempDir } from '../helpers/index-repo.js'
import { component } from '../helpers/wasm.js'
import { WHARF } from '../helpers/cli.js'

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

export interface TestServer extends RunningServer {
  dataDir: string
  logs: string[]
}

/** A server on port 0 in a new data dir; `logs` collects its log lines. */
export async function serveTemp(overrides: Partial<ServeConfig> = {}): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await tempDir('wharf-serve-'))
  const logs: string[] = []
  const server = await startServer({
    port: 0,
    host: '127.0.0.1',
    dataDir,
    tokens: [],
    maxUploadBytes: 50 * 1024 * 1024,
    rateLimitPerMin: 100_000,
    log: (text) => logs.push(...text.trimEnd().split('\n')),
    ...overrides,
  })
  return Object.assign(server, { dataDir, logs })
}

export interface PublishFields {
  name: string
  version: string
  description?: string
  bytes?: Uint8Array
  sha256?: string
  fileField?: 'component' | 'artifact'
  extra?: Record<string, string>
}

/** The Run 2.0 client's publish request: multipart fields, the file as `component` named `<name>.wasm`, bearer token. */
export function publishForm(fields: PublishFields): FormData {
  const bytes = fields.bytes ?? component(`${fields.name}@${fields.version}`)
  const form = new FormData()
  form.append('name', fields.name)
  form.append('version', fields.version)
  form.append('description', fields.description ?? 'A test component')
  form.append('sha256', fields.sha256 ?? sha256(bytes))
  for (const [k, v] of Object.entries(fields.extra ?? {})) form.append(k, v)
  form.append(fields.fileField ?? 'component', new Blob([new Uint8Array(bytes)], { type: 'application/wasm' }), `${fields.name}.wasm`)
  return form
}

export async function publish(url: string, token: string | undefined, fields: PublishFields): Promise<Response> {
  return fetch(`${url}/api/v1/packages`, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: publishForm(fields),
  })
}

export interface ChildServer {
  url: string
  child: ChildProcess
  output: () => string
  /** Resolves with the exit signal or code. */
  exited: Promise<string>
  stop(): Promise<void>
}

/** `wharf serve` as a separate process (so it can be SIGKILLed); resolves once it listens. */
export async function serveChild(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const child = spawn(process.execPath, [WHARF, 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', REGISTRY_DATA_DIR: dataDir, REGISTRY_RATE_LIMIT_PER_MIN: '100000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? String(code))))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${out}`)), 30_000)
    const look = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', look)
    void exited.then((how) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (${how}) before listening:\n${out}`))
    })
  })
  return {
    url,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

export function adminTokenOf(dataDir: string): string {
  return fs.readFileSync(path.join(dataDir, 'state', 'admin-token'), 'utf8').trim()
}
