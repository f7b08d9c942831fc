/**
 * `wharf serve` next to nginx serving the same generated files, on loopback:
 * read throughput (autocannon, bounded in time) for a package's metadata and
 * its versions list, and the latency of publishing a small component through
 * the whole pipeline (journal, store, proposal, check, merge, build-api).
 *
 * Both servers run as their own processes with their defaults for logging
 * (wharf: one line per request to stdout, here a file; nginx: a buffered
 * access log), and answer plain (no Accept-Encoding) requests.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { freePort } from '../test/helpers/net.js'
import { component } from '../test/helpers/wasm.js'
import { table } from './_util.js'

const WHARF = fileURLToPath(new URL('../bin/wharf.js', import.meta.url))
const NGINX = '/usr/sbin/nginx'
const DURATION_S = 5
const ROUNDS = 2
const CONNECTIONS = 32
const PACKAGES = 20
const PUBLISHES = 20

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${url} did not come up`)
}

function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    child.once('exit', () => resolve())
    child.kill(signal)
  })
}

async function publish(url: string, token: string, name: string, version: string, bytes: Buffer): Promise<number> {
  const form = new FormData()
  form.append('name', name)
  form.append('version', version)
  form.append('description', `bench package ${name}`)
  form.append('sha256', createHash('sha256').update(bytes).digest('hex'))
  form.append('component', new Blob([new Uint8Array(bytes)], { type: 'application/wasm' }), `${name}.wasm`)
  const started = performance.now()
  const res = await fetch(`${url}/api/v1/packages`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form })
  const ms = performance.now() - started
  if (res.status !== 201) throw new Error(`publish ${name}@${version}: HTTP ${res.status} ${await res.text()}`)
  return ms
}

async function throughput(url: string): Promise<{ rps: number; p99: number; errors: number }> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, pipelining: 1 })
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.timeouts + result.non2xx }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!

export async function run(): Promise<void> {
  const work = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'wharf-bench-serve-'))
  const dataDir = path.join(work, 'data')
  const token = 'bench-token'
  const wharfPort = await freePort()
  const wharfLog = fs.openSync(path.join(work, 'wharf.log'), 'w')
  const wharf = spawn(process.execPath, [WHARF, 'serve'], {
    env: { ...process.env, PORT: String(wharfPort), HOST: '127.0.0.1', REGISTRY_DATA_DIR: dataDir, REGISTRY_TOKENS: `bench:${token}`, REGISTRY_RATE_LIMIT_PER_MIN: '1000000' },
    stdio: ['ignore', wharfLog, wharfLog],
  })
  let nginx: ChildProcess | undefined
  try {
    const wharfUrl = `http://127.0.0.1:${wharfPort}`
    await waitFor(`${wharfUrl}/health`)

    // Publish latency: sequential small components, each through the whole pipeline.
    const latencies: number[] = []
    for (let i = 0; i < PUBLISHES; i++) latencies.push(await publish(wharfUrl, token, `bench:pkg-${i % PACKAGES}`, `0.1.${Math.floor(i / PACKAGES)}`, component(`bench-${i}`)))
    for (let i = PUBLISHES; i < PACKAGES; i++) await publish(wharfUrl, token, `bench:pkg-${i}`, '0.1.0', component(`bench-${i}`))
    latencies.sort((a, b) => a - b)

    // nginx over the very files wharf generated.
    const nginxPort = await freePort()
    const prefix = path.join(work, 'nginx')
    await fs.promises.mkdir(prefix, { recursive: true })
    const conf = path.join(prefix, 'nginx.conf')
    await fs.promises.writeFile(
      conf,
      `daemon off;
master_process on;
worker_processes auto;
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 1024; }
http {
  access_log ${prefix}/access.log combined buffer=64k flush=1s;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  types { application/json json; text/html html; application/wasm wasm; }
  default_type application/json;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  server {
    listen 127.0.0.1:${nginxPort};
    root ${path.join(dataDir, 'public')};
    location / { try_files $uri =404; }
  }
}
`,
    )
    nginx = spawn(NGINX, ['-p', prefix, '-c', conf], { stdio: 'ignore' })
    const nginxUrl = `http://127.0.0.1:${nginxPort}`
    const metadata = '/api/v1/packages/bench%3Apkg-7/0.1.0'
    const versions = '/api/v1/packages/bench%3Apkg-7/versions'
    await waitFor(`${nginxUrl}${metadata}`)
    for (const route of [metadata, versions]) {
      const [a, b] = await Promise.all([fetch(`${wharfUrl}${route}`).then((r) => r.text()), fetch(`${nginxUrl}${route}`).then((r) => r.text())])
      if (a !== b) throw new Error(`wharf and nginx disagree on ${route}`)
    }

    const rows = []
    for (const [label, route] of [
      ['package metadata', metadata],
      ['versions list', versions],
    ] as const) {
      // Alternating rounds, best of each: other work on a 2-core machine shows up as noise, not as a server's cost.
      const runs: { w: Awaited<ReturnType<typeof throughput>>[]; n: Awaited<ReturnType<typeof throughput>>[] } = { w: [], n: [] }
      for (let round = 0; round < ROUNDS; round++) {
        if (round % 2 === 0) runs.w.push(await throughput(`${wharfUrl}${route}`)), runs.n.push(await throughput(`${nginxUrl}${route}`))
        else runs.n.push(await throughput(`${nginxUrl}${route}`)), runs.w.push(await throughput(`${wharfUrl}${route}`))
      }
      const best = (list: typeof runs.w) => list.reduce((a, b) => (b.rps > a.rps ? b : a))
      const w = best(runs.w)
      const n = best(runs.n)
      const errors = [...runs.w, ...runs.n].reduce((sum, r) => sum + r.errors, 0)
      if (errors) throw new Error(`${errors} errors or non-2xx answers during the runs`)
      rows.push({ route: label, 'wharf req/s': Math.round(w.rps), 'nginx req/s': Math.round(n.rps), 'wharf/nginx': (w.rps / n.rps).toFixed(2), 'wharf p99 ms': w.p99, 'nginx p99 ms': n.p99 })
    }
    table(rows)
    table([
      {
        'publish (small component)': `${PUBLISHES} in a row`,
        'median ms': percentile(latencies, 50).toFixed(1),
        'p95 ms': percentile(latencies, 95).toFixed(1),
        'max ms': latencies[latencies.length - 1]!.toFixed(1),
      },
    ])
    console.log(`${os.cpus().length} cores; ${CONNECTIONS} connections, ${DURATION_S} s per run, best of ${ROUNDS}; nginx worker_processes auto; wharf one process.`)
  } finally {
    if (nginx) await stop(nginx, 'SIGQUIT')
    await stop(wharf)
    fs.closeSync(wharfLog)
    await fs.promises.rm(work, { recursive: true, force: true })
  }
}
