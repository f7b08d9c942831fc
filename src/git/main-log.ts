/**
 * main only moves forward from itself: every move wharf makes keeps the old
 * tip as the new tip's first parent, and is written to an append-only log
 * of tips (`.wharf/main-tips`, local state beside the artifact store). The
 * log is the trust anchor `wharf audit` checks main's first-parent history
 * against: each tip wharf ever moved main to must still be on it, in order,
 * or the history was rewritten.
 */
import fs from 'node:fs'
import path from 'node:path'
import { WharfError } from '../core/errors.js'
import { MAIN, readCommitInfo, resolveCommit, setBranch, type Repo } from './repo.js'

export const MAIN_LOG_PATH = '.wharf/main-tips'

export interface LoggedTip {
  oid: string
  /** When wharf moved main there (ISO 8601). */
  at: string
}

/** Adds `oid` to the log of tips. One line per tip, appended, so a crash can only cut the last line short. */
export async function logMainTip(dir: string, oid: string, now = new Date()): Promise<void> {
  const file = path.join(dir, MAIN_LOG_PATH)
  await fs.promises.mkdir(path.dirname(file), { recursive: true })
  await fs.promises.appendFile(file, `${oid} ${now.toISOString()}\n`)
}

/** The tips in the log, oldest first; a line cut short by a crash is left out. */
export async function readMainLog(dir: string): Promise<LoggedTip[]> {
  let text: string
  try {
    text = await fs.promises.readFile(path.join(dir, MAIN_LOG_PATH), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
  const tips: LoggedTip[] = []
  for (const line of text.split('\n')) {
    const match = /^([0-9a-f]{40}) (\S+)$/.exec(line)
    if (match) tips.push({ oid: match[1]!, at: match[2]! })
  }
  return tips
}

/**
 * Moves main from `from` to `to`, which must have `from` as its first
 * parent; refuses when main is no longer at `from` (another writer moved it).
 * The ref is written before the log, so a crash between the two leaves a log
 * one tip short, never a logged tip that main does not hold.
 */
export async function advanceMain(repo: Repo, from: string, to: string): Promise<void> {
  const tip = await resolveCommit(repo, MAIN)
  if (tip !== from) {
    throw new WharfError('CONFLICT', `main moved to ${tip.slice(0, 12)} while a change to ${from.slice(0, 12)} was being made`, { hint: 'run the command again on the current main' })
  }
  const { parents } = await readCommitInfo(repo, to)
  if (parents[0] !== from) {
    throw new WharfError('INTERNAL', `refusing to move main to ${to.slice(0, 12)}: its first parent is ${parents[0]?.slice(0, 12) ?? 'none'}, not main's tip ${from.slice(0, 12)}`, {
      hint: 'main only moves forward from itself; this is a bug in wharf',
    })
  }
  await setBranch(repo, MAIN, to)
  await logMainTip(repo.dir, to)
}
