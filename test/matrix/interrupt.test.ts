/**
 * Ctrl-C and SIGTERM stop `wharf test` cleanly: sent mid-build (while cargo
 * runs, in its own process group), wharf ends every process it started, removes
 * its working directory and exits 130 (143 for SIGTERM). Checked from /proc:
 * after wharf exits, no process of its groups, and none that inherited its
 * environment, is left running.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { WHARF } from '../helpers/cli.js'
import { ADD_MODULE } from '../helpers/wasm.js'
import { adminTokenOf, publish, serveChild } from '../serve/helpers.js'
import { fixture, tempDir } from './helpers.js'

interface Proc {
  pid: number
  ppid: number
  pgrp: number
  state: string
  comm: string
}

function processes(): Proc[] {
  const list: Proc[] = []
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
      const [state, ppid, pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      list.push({ pid: Number(entry), ppid: Number(ppid), pgrp: Number(pgrp), state: state!, comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) })
    } catch {
      // Gone between readdir and read.
    }
  }
  return list
}

function descendants(root: number, all: Proc[]): Proc[] {
  const found: Proc[] = []
  const parents = new Set([root])
  for (let grew = true; grew; ) {
    grew = false
    for (const p of all) {
      if (parents.has(p.ppid) && !parents.has(p.pid)) {
        parents.add(p.pid)
        found.push(p)
        grew = true
      }
    }
  }
  return found
}

/** Running (not zombie) processes whose environment holds `mark`. */
function marked(mark: string): Proc[] {
  return processes().filter((p) => {
    if (p.state === 'Z') return false
    try {
      return fs.readFileSync(`/proc/${p.pid}/environ`, 'latin1').includes(mark)
    } catch {
      return false
    }
  })
}

async function interruptMidBuild(signal: NodeJS.Signals): Promise<{ code: number | null; stderr: string; groups: Set<number>; seen: string[]; mark: string; workDir: string }> {
  const work = await tempDir('wharf-interrupt-')
  const crate = path.join(work, 'calc')
  fs.cpSync(fixture('calc'), crate, { recursive: true, filter: (src) => !/\/(target|Cargo\.lock)$/.test(src) })
  const workDir = path.join(work, 'scratch')
  fs.mkdirSync(workDir)
  const mark = `WHARF_INTERRUPT_MARK=${randomUUID()}`
  const [key, value] = mark.split('=') as [string, string]
  const child = spawn(process.execPath, [WHARF, 'test', crate, '--targets', 'native,wasm32-wasip1', '--work-dir', workDir, '--json'], {
    env: { ...process.env, [key]: value, CARGO_NET_OFFLINE: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  child.stdout.resume()
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  // Mid-build: a rustc under a cargo that wharf started.
  const groups = new Set<number>()
  const seen: string[] = []
  const deadline = Date.now() + 120_000
  for (;;) {
    const tree = descendants(child.pid!, processes()).filter((p) => p.state !== 'Z')
    for (const p of tree) {
      groups.add(p.pgrp)
      seen.push(p.comm)
    }
    if (tree.some((p) => p.comm === 'rustc') && tree.some((p) => p.comm === 'cargo')) break
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`never saw cargo building (saw ${[...new Set(seen)].join(', ')}); exit ${child.exitCode}; stderr:\n${stderr}`)
    await new Promise((r) => setTimeout(r, 10))
  }
  child.kill(signal)
  const code = await exited
  // Probes wharf runs to completion (spawnSync) share wharf's group, which is this test's.
  groups.delete(processes().find((p) => p.pid === process.pid)!.pgrp)
  return { code, stderr, groups, seen, mark, workDir }
}

describe('stopping wharf test', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s mid-build ends every child, removes the work dir and exits %i', async (signal, expected) => {
    const { code, stderr, groups, mark, workDir } = await interruptMidBuild(signal)
    expect(code, stderr).toBe(expected)
    // cargo ran in a process group of its own, not in the test's.
    expect(groups.size).toBeGreaterThan(0)
    const left = processes().filter((p) => groups.has(p.pgrp) && p.state !== 'Z')
    expect(left.map((p) => `${p.pid} ${p.comm}`)).toEqual([])
    expect(marked(mark).map((p) => `${p.pid} ${p.comm}`)).toEqual([])
    expect(fs.readdirSync(workDir)).toEqual([])
  }, 180_000)
})

describe('stopping wharf serve', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s is its normal end: it closes and exits 0', async (signal) => {
    const server = await serveChild(await tempDir('wharf-serve-stop-'))
    expect((await fetch(`${server.url}/health`)).status).toBe(200)
    server.child.kill(signal)
    expect(await server.exited).toBe('0')
    expect(server.output()).toMatch(/\nstopping\n/)
  }, 60_000)
})

describe('test jobs of wharf serve, run from the bundle', () => {
  it('start the bundled matrix child and keep its report', async () => {
    const dataDir = await tempDir('wharf-serve-job-')
    const server = await serveChild(dataDir)
    try {
      const admin = { authorization: `Bearer ${adminTokenOf(dataDir)}` }
      expect((await publish(server.url, adminTokenOf(dataDir), { name: 'acme:add', version: '1.0.0', bytes: ADD_MODULE })).status).toBe(201)
      expect((await fetch(`${server.url}/tests/acme:add`, { method: 'POST', headers: admin })).status).toBe(202)
      let job: { status: string; exit_code?: number; error?: string; report?: { schema: string } } = { status: 'queued' }
      for (let i = 0; i < 600 && (job.status === 'queued' || job.status === 'running'); i++) {
        await new Promise((r) => setTimeout(r, 100))
        job = ((await (await fetch(`${server.url}/tests/acme:add`)).json()) as { data: typeof job }).data
      }
      expect(job, JSON.stringify(job)).toMatchObject({ status: 'passed', exit_code: 0, report: { schema: 'wharf:report/v1' } })
    } finally {
      await server.stop()
    }
  }, 120_000)
})
