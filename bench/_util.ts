/** Small helpers shared by the benchmarks. */
import fs from 'node:fs'
import path from 'node:path'
import { performance } from 'node:perf_hooks'

/** Median wall time in ms of `runs` calls, after one warm-up call. */
export async function medianMs(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    times.push(performance.now() - start)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

export function table(rows: Record<string, string | number>[]): void {
  console.table(rows)
}

/**
 * What the kernel does to this process's memory behind its back, when it
 * matters to the figures: a DAMON scheme that pages out memory it finds
 * cold (some VMs run one to hand memory back to their host) drops page
 * cache too, so a file read between two timed runs may come from disk
 * again. Empty when there is none.
 */
export function memoryNote(): string {
  const root = '/sys/kernel/mm/damon/admin/kdamonds'
  try {
    for (const daemon of fs.readdirSync(root).filter((d) => /^\d+$/.test(d))) {
      if (fs.readFileSync(path.join(root, daemon, 'state'), 'utf8').trim() !== 'on') continue
      const contexts = path.join(root, daemon, 'contexts')
      for (const context of fs.readdirSync(contexts).filter((c) => /^\d+$/.test(c))) {
        const schemes = path.join(contexts, context, 'schemes')
        for (const scheme of fs.readdirSync(schemes).filter((c) => /^\d+$/.test(c))) {
          if (fs.readFileSync(path.join(schemes, scheme, 'action'), 'utf8').trim() === 'pageout') {
            return '; the kernel pages out memory it finds cold (DAMON pageout), page cache included: times that read files move from run to run'
          }
        }
      }
    }
  } catch {
    // No DAMON here, or not readable: nothing to say.
  }
  return ''
}

/**
 * The file system a benchmark writes its scratch files on, said in one
 * line, with a warning where its figures will not hold still: on ext4
 * without a journal, creating a file skips over every inode freed in the
 * last one to six minutes (the allocator's `recently_deleted` check), so a
 * build that writes many files slows down after any large deletion on the
 * disk, the benchmark's own or another process's. GitHub's runners
 * journal theirs; point TMPDIR at such a file system for figures like
 * theirs.
 */
export function scratchNote(dir: string): string {
  let mounts: { point: string; type: string; source: string }[]
  try {
    mounts = fs
      .readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [before, after = ''] = line.split(' - ')
        const [type = '', source = ''] = after.split(' ')
        return { point: before!.split(' ')[4]!.replace(/\\040/g, ' '), type, source }
      })
  } catch {
    return `scratch files in ${dir}`
  }
  const real = fs.realpathSync(dir)
  const mount = mounts.filter((m) => real === m.point || real.startsWith(m.point === '/' ? '/' : `${m.point}/`)).sort((a, b) => b.point.length - a.point.length)[0]
  if (!mount) return `scratch files in ${dir}`
  const said = `scratch files in ${dir} (${mount.type} on ${mount.source})`
  if (mount.type !== 'ext4') return said
  const device = path.basename(mount.source)
  const journaled = fs.existsSync('/proc/fs/jbd2') && fs.readdirSync('/proc/fs/jbd2').some((entry) => entry.startsWith(`${device}-`))
  if (journaled) return `${said}, journaled`
  return `${said}, WITHOUT a journal: creating files there slows down for minutes after any large deletion on it, so these figures vary from run to run; set TMPDIR to a journaled file system for steadier ones`
}
