/**
 * Every write to a local index that no one reviews by hand (the server's, and
 * a federation import's) runs the pipeline a pull request runs, one at a
 * time: journal, artifact into the store, proposal commit on a branch,
 * `wharf check`, merge (main moves: the commit point), work tree and branch
 * tidied, incremental `build-api`, then the answer.
 *
 * WHARF_TEST_CRASH_AT=<step> makes the process SIGKILL itself right after
 * that step (one of CRASH_STEPS), so tests can cut a write at a known place
 * and check that a restart finishes or rolls it back.
 */
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { runCheck, type CheckResult, type Fetch, type Finding } from '../check/index.js'
import { stableJson } from '../core/canonical.js'
import { isWharfError, noSpaceError, WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import { schemaErrors, type SchemaName } from '../core/schemas.js'
import { withSubmitterTrailer } from '../core/submitter.js'
import { advanceMain, branchExists, deleteBranch, hashBlob, MAIN, readFileAt, resolveCommit, setBranch, syncWorkTree, walkFiles, withRepoLock, writeCommitWith, type Repo } from '../git/index.js'
import { artifactPath, putArtifact } from '../store/index.js'
import type { Journal, JournalEntry } from './journal.js'
import { sweep } from './sweep.js'

/** Objects written up to this long before the previous start's sweep are checked again (clocks drift, writes straddle it). */
const SWEEP_SLACK_MS = 60 * 60_000

/** The places a write can be cut, in order. */
export const CRASH_STEPS = ['journal', 'store', 'propose', 'check', 'merge', 'sync', 'build', 'answer'] as const
export type CrashStep = (typeof CRASH_STEPS)[number]

/** Kills the process at `step` when WHARF_TEST_CRASH_AT names it (tests only). */
export function crashPoint(step: CrashStep): void {
  if (process.env.WHARF_TEST_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
}

export interface PlannedFile {
  path: string
  json: object
  schema: SchemaName
}

/** An artifact a write stores, read only when it is stored (an import may carry thousands). */
export interface PlannedArtifact {
  sha256: string
  read(): Promise<Uint8Array>
}

/** What one write adds to the index. */
export interface Plan {
  label: string
  branch: string
  /** The login the proposal is submitted as (owner checks apply to it). */
  author: string
  message: string
  files: PlannedFile[]
  artifact?: Uint8Array
  /**
   * What check reads a record's remote artifacts from: bytes fetched before
   * the write lock was taken. Under the lock nothing goes to the network; a
   * URL this does not answer is refused.
   */
  fetched?: ReadonlyMap<string, Uint8Array>
  /** More artifacts to store (a federation import's). */
  artifacts?: PlannedArtifact[]
}

/**
 * The fetch check gets under the write lock: it answers only from bytes
 * fetched beforehand, so a slow or hostile URL can never hold the lock.
 */
export function fetchFromPrefetched(fetched: ReadonlyMap<string, Uint8Array> = new Map()): Fetch {
  return async (input) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    const bytes = fetched.get(url)
    if (!bytes) {
      throw new WharfError('FETCH_REFUSED', `${url} was not fetched before the write began`, { hint: 'artifacts are fetched, and their digests checked, before a write takes the lock' })
    }
    return new Response(new Uint8Array(bytes), { status: 200, headers: { 'content-length': String(bytes.length) } })
  }
}

export interface WriteResult {
  base: string
  commit: string
  check: CheckResult
}

export interface PipelineHooks {
  /** Runs after main moved to `commit`: catalog and static API catch up. Failures here are retried on start. */
  afterMerge(base: string, commit: string): Promise<void>
  log(line: string): void
}

export interface Pipeline {
  /**
   * Runs one write: `plan` sees the tip of main under the write lock and
   * returns what to add, or undefined when there is nothing to do.
   */
  submit(plan: (base: string) => Promise<Plan | undefined>): Promise<WriteResult | undefined>
  /**
   * Removes what a crash or a full disk left half-written (sweep.ts: temp
   * files, also under `stateDirs`; broken loose objects; a broken
   * .git/index), then finishes or rolls back each write left in the journal.
   */
  recover(options?: { stateDirs?: readonly string[] }): Promise<{ finished: string[]; rolledBack: string[] }>
  /** Resolves once every queued write has ended. */
  idle(): Promise<void>
}

/** An error for a submission `check` refused, with the status its first finding calls for. */
export function rejection(findings: Finding[]): WharfError {
  const first = findings[0]!
  const code =
    first.rule === 'record/version-exists'
      ? 'VERSION_EXISTS'
      : /^(namespace\/(not-owner|claim-author|reserved|change-not-owner)|registry\/not-maintainer|federation\/(delegated|import))$/.test(first.rule)
        ? 'FORBIDDEN'
        : 'REJECTED'
  const field = first.rule.startsWith('artifact/')
    ? 'component'
    : first.rule === 'record/dependency'
      ? 'dependencies'
      : first.rule === 'record/signature'
        ? 'record'
        : undefined
  const message = findings.map((f) => `${f.rule}: ${f.message}`).join('; ')
  return new WharfError(code, message, { hint: first.hint, findings, ...(field ? { field } : {}) })
}

async function mainHolds(repo: Repo, files: JournalEntry['files']): Promise<boolean> {
  const main = await resolveCommit(repo, MAIN)
  for (const file of files) {
    const blob = await readFileAt(repo, main, file.path)
    if (!blob) return false
    if ((await hashBlob(blob)) !== file.oid) return false
  }
  return true
}

export function createPipeline(repo: Repo, journal: Journal, hooks: PipelineHooks): Pipeline {
  let tail: Promise<unknown> = Promise.resolve()
  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const run = tail.then(work)
    tail = run.catch(() => undefined)
    return run
  }

  const rollBack = async (entry: JournalEntry) => {
    if (await branchExists(repo, entry.branch)) await deleteBranch(repo, entry.branch)
    for (const artifact of [...(entry.artifact ? [entry.artifact] : []), ...(entry.artifacts ?? [])]) {
      if (!artifact.preexisting) await fs.promises.rm(artifactPath(repo.dir, artifact.sha256), { force: true })
    }
    await journal.remove(entry.id)
  }

  /** After a write failed on I/O: no loose object it left may stay half-written (isomorphic-git would never write it again). */
  const sweepAfterFailure = async (label: string, sinceMs: number) => {
    const swept = await sweep(repo, { sinceMs, temps: false }).catch((e: unknown) => {
      hooks.log(`publish ${label} sweep failed: ${(e as Error).message}`)
      return undefined
    })
    if (swept?.objects.length) hooks.log(`publish ${label} removed ${swept.objects.length} broken loose object(s)`)
  }

  const write = async (planFor: (base: string) => Promise<Plan | undefined>): Promise<WriteResult | undefined> => {
    const base = await resolveCommit(repo, MAIN)
    const plan = await planFor(base)
    if (!plan) return undefined
    const started = Date.now()
    const step = (name: CrashStep) => {
      hooks.log(`publish ${plan.label} ${name} ${Date.now() - started}ms`)
      crashPoint(name)
    }
    const files = plan.files.map((f) => {
      const problems = schemaErrors(f.schema, f.json)
      if (problems.length) throw new WharfError('INVALID_INPUT', `${f.path} would be invalid: ${problems.join('; ')}`, { hint: 'check the fields of the request' })
      return { path: f.path, content: stableJson(f.json) }
    })
    const oids = await Promise.all(files.map(async (f) => ({ path: f.path, oid: await hashBlob(f.content) })))
    const sha256 = plan.artifact ? sha256Hex(plan.artifact) : undefined
    const held = (digest: string) => ({ sha256: digest, preexisting: fs.existsSync(artifactPath(repo.dir, digest)) })
    const entry: JournalEntry = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      label: plan.label,
      branch: plan.branch,
      base,
      files: oids,
      ...(sha256 ? { artifact: held(sha256) } : {}),
      ...(plan.artifacts?.length ? { artifacts: plan.artifacts.map((a) => held(a.sha256)) } : {}),
      started_at: new Date().toISOString(),
    }
    try {
      await journal.write(entry)
    } catch (e) {
      throw noSpaceError(e, `publishing ${plan.label}`) ?? e
    }
    step('journal')
    let head: string
    let check: CheckResult
    try {
      if (plan.artifact) await putArtifact(repo.dir, plan.artifact)
      for (const artifact of plan.artifacts ?? []) {
        const bytes = await artifact.read()
        if (sha256Hex(bytes) !== artifact.sha256) throw new WharfError('INTERNAL', `the staged artifact ${artifact.sha256} changed before it was stored`, { hint: 'run the write again' })
        await putArtifact(repo.dir, bytes)
      }
      step('store')
      head = await writeCommitWith(repo, { parents: [base], files, message: withSubmitterTrailer(plan.message, { login: plan.author }), author: { login: plan.author } })
      await setBranch(repo, plan.branch, head)
      step('propose')
      check = await runCheck({ repo, base, head, author: { login: plan.author }, fetch: fetchFromPrefetched(plan.fetched) })
      step('check')
      if (!check.accepted) throw rejection(check.findings)
      // The ref is written then renamed, then the tip logged: a crash leaves main at the old tip or the new one.
      await advanceMain(repo, base, head)
    } catch (e) {
      // Nothing before main moves is kept: branch, new artifact and journal entry go, and any object left half-written.
      if ((await resolveCommit(repo, MAIN)) === base) await rollBack(entry).catch(() => undefined)
      if (!isWharfError(e)) await sweepAfterFailure(plan.label, started - 1000)
      throw noSpaceError(e, `publishing ${plan.label}`) ?? e
    }
    step('merge')
    // Main moved: the write stands. What follows tidies up; if it fails, the journal entry stays and the next start finishes it.
    try {
      await syncWorkTree(repo, files.map((f) => f.path))
      await deleteBranch(repo, plan.branch)
    } catch (e) {
      hooks.log(`publish ${plan.label} merged; tidying up failed (the next start finishes it): ${(e as Error).message}`)
      await sweepAfterFailure(plan.label, started - 1000)
      return { base, commit: head, check }
    }
    step('sync')
    try {
      await hooks.afterMerge(base, head)
    } catch (e) {
      // The version is merged and stays; the API catches up at the next write or start (built.json lags main).
      hooks.log(`publish ${plan.label} build failed: ${(e as Error).message}`)
    }
    step('build')
    await journal.remove(entry.id)
    return { base, commit: head, check }
  }

  return {
    submit: (plan) => serial(() => withRepoLock(repo.dir, () => write(plan))),
    recover: (options = {}) =>
      serial(() =>
        withRepoLock(repo.dir, async () => {
          const finished: string[] = []
          const rolledBack: string[] = []
          // What a crash or a full disk left half-written goes first, so the journal's entries are judged on whole objects.
          const mark = await journal.readMark()
          const swept = await sweep(repo, { temps: true, stateDirs: options.stateDirs ?? [], ...(mark !== undefined ? { sinceMs: mark - SWEEP_SLACK_MS } : {}) })
          for (const file of swept.temps) hooks.log(`recovered: removed ${path.relative(repo.dir, file)}`)
          for (const oid of swept.objects) hooks.log(`recovered: removed broken loose object ${oid}`)
          for (const oid of swept.referenced) hooks.log(`recovered: loose object ${oid} is broken and a ref points at it: run git fsck in ${repo.dir}`)
          if (swept.gitIndexRemoved) {
            // The work tree's index was cut short: write it again, whole, from main.
            await syncWorkTree(repo, (await walkFiles(repo, MAIN, '')).map((f) => f.path))
            hooks.log('recovered: wrote .git/index again from main')
          }
          for (const entry of await journal.pending()) {
            if (await mainHolds(repo, entry.files)) {
              await syncWorkTree(repo, entry.files.map((f) => f.path))
              if (await branchExists(repo, entry.branch)) await deleteBranch(repo, entry.branch)
              await journal.remove(entry.id)
              finished.push(entry.label)
            } else {
              await rollBack(entry)
              rolledBack.push(entry.label)
            }
          }
          await journal.writeMark(Date.now()).catch((e: unknown) => hooks.log(`recovered: could not record the sweep: ${(e as Error).message}`))
          return { finished, rolledBack }
        }),
      ),
    idle: () => serial(async () => undefined),
  }
}
