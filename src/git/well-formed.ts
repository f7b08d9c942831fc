/**
 * Tree objects as `git fsck` defines them well-formed. A malformed tree is
 * read differently by different readers: of two entries with the same name,
 * one reader takes the first (git's binary search), another the last (a
 * map), so a submission could show a reviewer one record and land another.
 * Trees are checked here over their raw bytes, with a parser that keeps
 * every entry as written, before anything else reads them.
 *
 * The rules are fsck's (fsck.c, fsck_tree): entries sorted in git's order
 * (a directory sorts as `name/`), no name twice, no empty name, no `.`,
 * `..` or `.git` (case-insensitively, with the names NTFS and HFS+ read as
 * `.git`), no `/` in a name, only the modes git writes, none zero-padded,
 * and no entry pointing at the null object id.
 */
import { differingRange } from './diff.js'
import type { ObjectReader } from './objects.js'

export type TreeProblemKind =
  | 'bad-tree'
  | 'duplicate'
  | 'unsorted'
  | 'empty-name'
  | 'full-path'
  | 'dot'
  | 'dotdot'
  | 'dotgit'
  | 'bad-mode'
  | 'zero-padded-mode'
  | 'null-oid'
  | 'wrong-type'

export interface TreeProblem {
  kind: TreeProblemKind
  message: string
}

/** One entry of a tree, as written: the mode as its octal text, the name as bytes. */
export interface RawTreeEntry {
  mode: string
  name: Buffer
  oid: string
}

export const TREE_MODE = '40000'
/** The modes git writes: regular file, executable, symlink, submodule, directory. */
export const VALID_MODES: ReadonlySet<string> = new Set(['100644', '100755', '120000', '160000', TREE_MODE])
const NULL_OID = '0'.repeat(40)

/** Every entry of a tree object in the order written, or the reason it cannot be parsed. */
export function parseTreeEntries(data: Buffer): RawTreeEntry[] | TreeProblem {
  const entries: RawTreeEntry[] = []
  let pos = 0
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos)
    if (space <= pos) return { kind: 'bad-tree', message: `the entry at byte ${pos} has no mode` }
    for (let i = pos; i < space; i++) {
      if (data[i]! < 0x30 || data[i]! > 0x37) return { kind: 'bad-tree', message: `the entry at byte ${pos} has a mode that is not octal` }
    }
    const nul = data.indexOf(0, space + 1)
    if (nul < 0 || nul + 21 > data.length) return { kind: 'bad-tree', message: `the entry at byte ${pos} is cut short` }
    entries.push({ mode: data.toString('latin1', pos, space), name: data.subarray(space + 1, nul), oid: data.toString('hex', nul + 1, nul + 21) })
    pos = nul + 21
  }
  return entries
}

const isTree = (mode: string) => mode === TREE_MODE || mode === `0${TREE_MODE}`

/** git's order of tree entries: bytewise, a directory's name followed by `/`. */
export function compareEntries(a: RawTreeEntry, b: RawTreeEntry): number {
  const len = Math.min(a.name.length, b.name.length)
  const head = a.name.compare(b.name, 0, len, 0, len)
  if (head !== 0) return head
  const next = (e: RawTreeEntry) => (e.name.length > len ? e.name[len]! : isTree(e.mode) ? 0x2f : 0)
  return next(a) - next(b)
}

// Code points HFS+ ignores when it compares names (git's next_hfs_char).
const HFS_IGNORED = /[\u200C-\u200F\u202A-\u202E\u206A-\u206F\uFEFF]/g

/** Whether a checkout on some file system would read `name` as `.git` (git's is_hfs_dotgit and is_ntfs_dotgit). */
export function isDotGit(name: Buffer): boolean {
  const text = name.toString('utf8')
  if (text.replace(HFS_IGNORED, '').toLowerCase() === '.git') return true
  // NTFS: `.git` or its short name `git~1`, then only dots and spaces up to the end, a separator or a stream (`:`).
  return /^(?:\.git|git~1)[. ]*(?:$|[\\/:])/i.test(text)
}

const shown = (name: Buffer) => JSON.stringify(name.toString('utf8'))

/** Every way a tree object breaks fsck's rules, or none. */
export function treeProblems(data: Buffer): TreeProblem[] {
  const parsed = parseTreeEntries(data)
  return Array.isArray(parsed) ? entryProblems(parsed) : [parsed]
}

/** Whether a checkout could read `name` as `.git`: only a name that starts `.`, `g` or `G`, or holds a byte past ASCII (HFS+ ignores some code points). */
const mayReadAsDotGit = (name: Buffer) => name[0] === 0x2e || (name[0]! | 0x20) === 0x67 || name.some((b) => b >= 0x80)

/**
 * Every way the entries of a tree from `parsed[from]` on, as written, break
 * fsck's rules; each is ordered against the entry before it, even one
 * before `from`.
 */
function entryProblems(parsed: readonly RawTreeEntry[], from = 0): TreeProblem[] {
  const problems: TreeProblem[] = []
  const seen = new Set<string>()
  for (let i = from; i < parsed.length; i++) {
    const entry = parsed[i]!
    const name = entry.name
    const key = name.toString('latin1')
    if (seen.has(key)) problems.push({ kind: 'duplicate', message: `two entries are named ${shown(name)}` })
    seen.add(key)
    const previous = parsed[i - 1]
    if (previous) problems.push(...orderProblems(previous, entry))
    if (name.length === 0) problems.push({ kind: 'empty-name', message: 'an entry has an empty name' })
    else if (name.includes(0x2f)) problems.push({ kind: 'full-path', message: `the name ${shown(name)} holds a "/"` })
    else if (key === '.') problems.push({ kind: 'dot', message: 'an entry is named "."' })
    else if (key === '..') problems.push({ kind: 'dotdot', message: 'an entry is named ".."' })
    else if (mayReadAsDotGit(name) && isDotGit(name)) problems.push({ kind: 'dotgit', message: `the name ${shown(name)} reads as ".git" on some file systems` })
    if (entry.mode.startsWith('0')) problems.push({ kind: 'zero-padded-mode', message: `${shown(name)} has the zero-padded mode ${entry.mode}` })
    else if (!VALID_MODES.has(entry.mode)) problems.push({ kind: 'bad-mode', message: `${shown(name)} has mode ${entry.mode}, which git does not write` })
    if (entry.oid === NULL_OID) problems.push({ kind: 'null-oid', message: `${shown(name)} points at the null object id` })
  }
  return problems
}

function orderProblems(previous: RawTreeEntry, entry: RawTreeEntry): TreeProblem[] {
  return compareEntries(previous, entry) > 0 ? [{ kind: 'unsorted', message: `${shown(entry.name)} comes after ${shown(previous.name)}: the entries are not in git's order` }] : []
}

/** The one entry at `pos` of a tree, or undefined when it is not one. */
function entryAt(data: Buffer, pos: number): RawTreeEntry | undefined {
  const nul = data.indexOf(0, pos)
  const parsed = nul < 0 ? undefined : parseTreeEntries(data.subarray(pos, nul + 21))
  return Array.isArray(parsed) && parsed.length === 1 ? parsed[0] : undefined
}

/** Whether some entry of `data` other than the one whose name starts at `own` may bear the name `name`. */
function nameElsewhere(data: Buffer, name: Buffer, own: number): boolean {
  const needle = Buffer.concat([SPACE, name, NUL])
  for (let at = data.indexOf(needle); at >= 0; at = data.indexOf(needle, at + 1)) if (at + 1 !== own) return true
  return false
}
const SPACE = Buffer.from(' ')
const NUL = Buffer.from([0])

/** Changed entries of a tree whose names are each looked for through it; more, and the tree is checked whole (linear in its size). */
const NAMES_LOOKED_FOR = 16

interface ChangedPart {
  problems: TreeProblem[]
  /** The entries of `head` that may differ from `base`'s, and those of `base` in the same place (when there are no problems). */
  entries: RawTreeEntry[]
  baseEntries: RawTreeEntry[]
}

function changedPart(head: Buffer, base: Buffer): ChangedPart {
  const range = differingRange(base, head)
  if (!range) return { problems: [], entries: [], baseEntries: [] }
  const entries = parseTreeEntries(head.subarray(range.start, range.endB))
  const baseEntries = parseTreeEntries(base.subarray(range.start, range.endA))
  // A name that may be there twice: only the whole tree says (a file and a directory of one name need not be neighbours).
  // Each name is looked for through the whole tree, so past a few changed entries checking it whole costs less.
  if (!Array.isArray(entries) || entries.length > NAMES_LOOKED_FOR || entries.some((e) => nameElsewhere(head, e.name, e.name.byteOffset - head.byteOffset))) {
    return { problems: treeProblems(head), entries: Array.isArray(entries) ? entries : [], baseEntries: Array.isArray(baseEntries) ? baseEntries : [] }
  }
  const before = range.before >= 0 ? entryAt(head, range.before) : undefined
  const window = before ? [before, ...entries] : entries
  const problems = entryProblems(window, before ? 1 : 0)
  const after = range.endB < head.length ? entryAt(head, range.endB) : undefined
  if (after && window.length) problems.push(...orderProblems(window[window.length - 1]!, after))
  return { problems, entries, baseEntries: Array.isArray(baseEntries) ? baseEntries : [] }
}

/**
 * Every way `head`, a new version of the tree `base`, breaks fsck's rules
 * where it differs from `base`: in the entries it adds or changes, and in
 * their order against the entries around them. The entries both share are
 * skipped without parsing (a directory of 100,000 packages costs about
 * what a directory of ten does); what `base` already held is not its
 * problem. When `base` is well-formed this is `treeProblems(head)`.
 */
export function changedTreeProblems(head: Buffer, base: Buffer): TreeProblem[] {
  return changedPart(head, base).problems
}

export interface MalformedTree {
  /** The directory, `''` for the root. */
  path: string
  oid: string
  problem: TreeProblem
}

/**
 * Every problem in the trees `head` brings in over `base` (root tree ids;
 * `base` undefined for none): in each tree on the head side whose id
 * differs from the base side's at its path, the entries it changed
 * (changedTreeProblems). Trees both sides share are not read, nor are the
 * entries two versions of a tree share, so the cost follows the change.
 */
export function malformedTrees(reader: ObjectReader, head: string, base: string | undefined, limit = 50): MalformedTree[] {
  const out: MalformedTree[] = []
  const pending: [string, string | undefined, string][] = [[head, base, '']]
  while (pending.length > 0 && out.length < limit) {
    const [oid, baseOid, path] = pending.pop()!
    if (oid === baseOid) continue
    const object = reader.read(oid)
    if (object.type !== 'tree') {
      out.push({ path, oid, problem: { kind: 'wrong-type', message: `${path || 'the root'} is a directory entry, but object ${oid} is a ${object.type}` } })
      continue
    }
    const base = baseOid ? reader.read(baseOid) : undefined
    let part: ChangedPart
    if (base?.type === 'tree') part = changedPart(object.data, base.data)
    else {
      const entries = parseTreeEntries(object.data)
      part = Array.isArray(entries) ? { problems: entryProblems(entries), entries, baseEntries: [] } : { problems: [entries], entries: [], baseEntries: [] }
    }
    for (const problem of part.problems) out.push({ path, oid, problem })
    // Under a malformed tree no path means one thing; its problems are reported once, above.
    if (part.problems.length > 0) continue
    const before = new Map<string, RawTreeEntry>()
    for (const e of part.baseEntries) before.set(e.name.toString('latin1'), e)
    for (const entry of part.entries) {
      const old = before.get(entry.name.toString('latin1'))
      if (old && old.oid === entry.oid && old.mode === entry.mode) continue
      const child = path ? `${path}/${entry.name.toString('utf8')}` : entry.name.toString('utf8')
      if (isTree(entry.mode)) pending.push([entry.oid, old && isTree(old.mode) ? old.oid : undefined, child])
    }
  }
  return out.slice(0, limit)
}
