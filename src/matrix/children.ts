/**
 * The one registry of the child processes wharf started and of the cleanup
 * their work needs, and what happens on Ctrl-C (SIGINT) or SIGTERM.
 *
 * Each child runs as the leader of its own process group, so a timeout or a
 * stop takes down everything it started (cargo's rustc and build scripts, a
 * test binary's own children). A Ctrl-C in wharf's terminal reaches wharf
 * alone; wharf passes the signal on to each group, waits for the groups to
 * end (SIGKILL after a grace period), runs the cleanup hooks (temp and target
 * directories), and exits 130 (SIGINT) or 143 (SIGTERM). A second signal
 * during all that stops waiting. A command whose normal end is a stop signal
 * (a server) says so with `onStopSignal` and ends itself instead.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { WharfError } from '../core/errors.js'

type Cleanup = () => unknown

/** How long the children get to end on the signal before SIGKILL, and how long after it before wharf stops waiting. */
export const STOP_GRACE_MS = 3000
const KILL_WAIT_MS = 1000

const groups = new Set<number>()
const cleanups = new Set<Cleanup>()
const stoppers = new Set<(signal: NodeJS.Signals) => void>()
let stopping: NodeJS.Signals | undefined
let listening = false

/** True once a stop signal arrived: nothing new starts, and work waiting on a child does not resume. */
export function isStopping(): boolean {
  return stopping !== undefined
}

/**
 * Starts `file args` as the leader of a new process group, known to the
 * registry until it exits. Throws when wharf is already stopping.
 */
export function spawnChild(file: string, args: string[], options: Omit<SpawnOptions, 'detached'> = {}): ChildProcess {
  if (stopping) throw new WharfError('STOPPING', `not starting ${file}: wharf is stopping (${stopping})`)
  listen()
  const child = spawn(file, args, { ...options, detached: true })
  const pid = child.pid
  if (pid !== undefined) {
    groups.add(pid)
    child.once('exit', () => {
      // Still stopping: the group may outlive its leader, and the stop waits for all of it.
      if (!stopping) groups.delete(pid)
    })
  }
  return child
}

/** Signals the whole process group led by `pid`; false when it is gone. */
export function signalGroup(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pid, signal)
    return true
  } catch {
    return false
  }
}

/** Runs `cleanup` if wharf is stopped before the returned function is called (which forgets it). */
export function addCleanup(cleanup: Cleanup): () => void {
  listen()
  cleanups.add(cleanup)
  return () => {
    cleanups.delete(cleanup)
  }
}

/** A stop signal calls `stop` (after the children ended and cleanup ran) instead of exiting; for commands that end on it. */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): () => void {
  listen()
  stoppers.add(stop)
  return () => {
    stoppers.delete(stop)
  }
}

function listen(): void {
  if (listening) return
  listening = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop(signal))
}

async function stop(signal: NodeJS.Signals): Promise<void> {
  const code = 128 + (os.constants.signals[signal] ?? 0)
  if (stopping) {
    // Asked twice: no more patience.
    for (const pid of groups) signalGroup(pid, 'SIGKILL')
    process.exit(code)
  }
  stopping = signal
  for (const pid of groups) signalGroup(pid, signal)
  if (!(await groupsEnded(STOP_GRACE_MS))) {
    for (const pid of groups) signalGroup(pid, 'SIGKILL')
    await groupsEnded(KILL_WAIT_MS)
  }
  // Last registered first: inner work is undone before the work that holds it.
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup()
    } catch {
      // Cleanup is best effort; the next one still runs.
    }
  }
  cleanups.clear()
  if (stoppers.size === 0) process.exit(code)
  for (const stopper of stoppers) stopper(signal)
}

async function groupsEnded(withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs
  for (;;) {
    for (const pid of groups) if (!groupAlive(pid)) groups.delete(pid)
    if (groups.size === 0) return true
    if (Date.now() >= deadline) return false
    await sleep(25)
  }
}

/**
 * Whether any process of group `pgid` still runs. Where /proc exists, a
 * zombie does not count: in a container whose init does not reap orphans,
 * ended members stay zombies forever.
 */
function groupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false
  let entries: string[]
  try {
    entries = fs.readdirSync('/proc')
  } catch {
    return true
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8')
    } catch {
      continue
    }
    // pid (comm) state ppid pgrp ...: comm may hold spaces and parentheses, so read after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (Number(pgrp) === pgid && state !== 'Z' && state !== 'X') return true
  }
  return false
}
