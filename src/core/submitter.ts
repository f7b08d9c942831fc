/**
 * Who submits a change. The submitter is never read from a commit's author
 * name, which anyone can set: it comes from `--author`, the pull-request
 * event or the server's token, and wharf writes it as a trailer into each
 * commit it puts on main, so `wharf audit` can judge owner-only changes
 * later without trusting what a submitter wrote.
 *
 *   Wharf-Submitter: alice (1001)
 *   Wharf-Submitter-Team: @acme/maintainers
 *
 * The second line names a team through which the submitter was found to be
 * an owner when the commit was judged (team membership cannot be replayed).
 */
import { WharfError } from './errors.js'

export interface Submitter {
  /** The account login (GitHub's rules; a GitHub App's account ends in `[bot]`). */
  login: string
  /** The numeric account id, which survives a login rename; known from a pull-request event or the API. */
  id?: number
}

const LOGIN = /^[A-Za-z0-9](?:-?[A-Za-z0-9])*(?:\[bot\])?$/
const MAX_LOGIN_LENGTH = 39 + '[bot]'.length
const TEAM = /^@[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\/[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/
const SUBMITTER_KEY = 'Wharf-Submitter'
const TEAM_KEY = 'Wharf-Submitter-Team'

/** Why `login` is not an account login, or undefined when it is one. */
export function checkLogin(login: string): string | undefined {
  if (login.length === 0) return 'the login is empty'
  if (login.length > MAX_LOGIN_LENGTH || !LOGIN.test(login)) return `"${login}" is not an account login (letters, digits and single dashes, at most 39)`
  return undefined
}

/** `LOGIN` or `LOGIN:ID`, as `--author` takes it. */
export function parseSubmitter(text: string): Submitter {
  const colon = text.lastIndexOf(':')
  const login = colon < 0 ? text : text.slice(0, colon)
  const id = colon < 0 ? undefined : text.slice(colon + 1)
  const problem = checkLogin(login)
  if (problem) throw new WharfError('USAGE', `--author: ${problem}`, { hint: 'pass --author LOGIN or --author LOGIN:NUMERIC-ID' })
  if (id === undefined) return { login }
  if (!/^[1-9]\d{0,15}$/.test(id)) throw new WharfError('USAGE', `--author "${text}": "${id}" is not a numeric account id`, { hint: 'pass --author LOGIN:NUMERIC-ID' })
  return { login, id: Number(id) }
}

/** The submitter, checked; a missing one is a usage error that says how to name it. */
export function requireSubmitter(submitter: Submitter | undefined, command: string): Submitter {
  if (!submitter?.login) {
    throw new WharfError('USAGE', `${command} needs the submitter's identity, and never reads it from a commit's author name (anyone can set that)`, {
      hint: 'pass --author LOGIN (the account that submits the proposal)',
    })
  }
  const problem = checkLogin(submitter.login)
  if (problem) throw new WharfError('USAGE', `the submitter: ${problem}`, { hint: 'pass the account login, as GitHub spells it' })
  if (submitter.id !== undefined && !(Number.isSafeInteger(submitter.id) && submitter.id > 0)) {
    throw new WharfError('USAGE', `the submitter's id ${submitter.id} is not a positive integer`, { hint: 'pass the numeric account id' })
  }
  return submitter
}

/**
 * The trailer block that records who submitted a commit on main: append it,
 * after a blank line, to the message of every commit that moves main (the
 * local merge, the server's writes, a squash merge made through GitHub's API).
 */
export function submitterTrailer(submitter: Submitter, teams: readonly string[] = []): string {
  const who = requireSubmitter(submitter, 'a commit on main')
  const lines = [`${SUBMITTER_KEY}: ${who.login}${who.id !== undefined ? ` (${who.id})` : ''}`]
  for (const team of [...new Set(teams)].sort()) {
    if (!TEAM.test(team)) throw new WharfError('INVALID_INPUT', `"${team}" is not a team (@org/team)`, { hint: 'name teams as @org/team' })
    lines.push(`${TEAM_KEY}: ${team}`)
  }
  return lines.join('\n')
}

/** `message` with the submitter's trailer block as its last paragraph. */
export function withSubmitterTrailer(message: string, submitter: Submitter, teams: readonly string[] = []): string {
  return `${message.trimEnd()}\n\n${submitterTrailer(submitter, teams)}\n`
}

export interface RecordedSubmitter extends Submitter {
  /** Teams the submitter was found to belong to when the commit was judged. */
  teams: string[]
}

/**
 * The submitter a commit message records: the one `Wharf-Submitter` line of
 * its last paragraph. Undefined when there is none, or more than one.
 */
export function readSubmitterTrailer(message: string): RecordedSubmitter | undefined {
  const paragraphs = message.replace(/\r\n/g, '\n').trim().split(/\n[ \t]*\n/)
  const last = paragraphs[paragraphs.length - 1] ?? ''
  const found: Submitter[] = []
  const teams: string[] = []
  for (const line of last.split('\n')) {
    const submitter = /^Wharf-Submitter: (\S+?)(?: \((\d{1,16})\))?$/.exec(line)
    if (submitter) {
      if (checkLogin(submitter[1]!)) return undefined
      found.push({ login: submitter[1]!, ...(submitter[2] ? { id: Number(submitter[2]) } : {}) })
      continue
    }
    const team = /^Wharf-Submitter-Team: (\S+)$/.exec(line)
    if (team && TEAM.test(team[1]!)) teams.push(team[1]!)
  }
  return found.length === 1 ? { ...found[0]!, teams } : undefined
}
