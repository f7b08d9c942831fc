/**
 * A full build: the first-parent history of main read once, commit by
 * commit (to number the change feed and date every document), then the
 * packages at the tip group by group, on worker threads when the index is
 * large, each group read, rendered (documents and pages), written and
 * forgotten. What stays in memory is a few numbers and short strings per
 * version (the commit that last changed each document, the feed's digests,
 * the snapshot's lines), never the documents; the package pages, which
 * wait for every dependents list, wait on disk.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { noSpaceError, WharfError } from '../core/errors.js'
import { sha256Hex } from '../core/hash.js'
import type { NamespaceFile } from '../core/types.js'
import { timestamp } from '../core/time.js'
import { classifyPath, INDEX_DIR, NAMESPACES_DIR, PACKAGES_DIR, REPORTS_DIR } from '../core/layout.js'
import { isTreeMode, parseCommitData, type Change, type ObjectReader, type RawEntry } from '../git/index.js'
import { cargoIndexPath, crateKey } from './cargo.js'
import {
  API_FORMAT,
  crateDocPath,
  FEED_PAGE_SIZE,
  feedPageOf,
  feedPagePath,
  namespaceDocPath,
  packageListPagePath,
  PATHS,
  renderCrateDoc,
  renderFeedPage,
  renderNamespaceDoc,
  renderNamespaceList,
  renderPackageList,
  renderPackageListPage,
  renderSearchIndex,
  renderSearchShard,
  rootPaths,
  searchShardPath,
  type Counts,
  type FeedEntry,
} from './documents.js'
import { dependingRecord, OPEN_PAGES_DIR, type GroupItem, type GroupTask, type PackageSummary } from './groups.js'
import { indexTree } from './history.js'
import { parseNamespace, readBlobAt } from './model.js'
import { dependentsPath, foldDependents, NEWEST_COUNT, pageContext, renderDependentsDoc, siteFiles, sortedDependents, type Dependent, type DependentsDoc } from './pages.js'
import { newTree, swapIn, TreeWriter } from './output.js'
import { Pool, runJob, type FilesResult, type GroupsResult, type HistoryResult, type Job, type JobEnv, type LeavesResult, type PagesResult } from './parallel.js'
import { groupOf, Scan } from './scan.js'
import { planShards, shardItem } from './search.js'
import { leafDigitsFor, partPath, renderPart, renderSnapshot, SNAPSHOT_PATH } from './snapshot.js'
import type { BuildApiResult, BuildContext } from './build.js'
import { renderState, writeAggregates } from './aggregates.js'

/** Groups handed to a thread at a time. */
const GROUPS_PER_TASK = 64
/** Commits of history a thread diffs at a time. */
const COMMITS_PER_TASK = 4096
/** Below this many commits, starting threads costs more than it saves. */
const COMMITS_FOR_THREADS = 4000

/** Documents the main thread renders that a thread writes, handed over at a time: this many, or fewer holding this many characters (a feed page is ~450 KB). */
const FILES_PER_TASK = 1024
const CHARS_PER_TASK = 4 * 1024 * 1024

/** Commits read between looks at the threads while the chain is read. */
const COMMITS_PER_LOOK = 1024

/** The first-parent chain from the head to the root (or a shallow clone's edge), oldest first, as parallel arrays (its trees are done with once diffed). */
interface Chain {
  oids: string[]
  times: number[]
}

/**
 * The history of main, cut in runs of COMMITS_PER_TASK commits counted from
 * the head (run 0 the newest), each diffed by `diff` (on a thread, or here).
 * The chain is read from the head back, one commit at a time, so while it
 * is read the runs it has reached go to whatever threads are idle, newest
 * first; once it is whole, the rest go oldest first, the order in which
 * `fold` takes them, so folding keeps pace with the threads.
 */
async function readHistory(
  reader: ObjectReader,
  head: string,
  idleThreads: (length: number) => number,
  diff: (trees: string[]) => Promise<HistoryResult>,
  fold: (first: number, lines: HistoryResult) => void,
): Promise<Chain> {
  const oids: string[] = []
  const trees: string[] = []
  const times: number[] = []
  const runs: Promise<HistoryResult>[] = []
  // Run k: the commits k * C .. (k + 1) * C - 1 from the head, oldest first, after the tree of the commit before them ('' for none).
  const start = (k: number): void => {
    const end = Math.min((k + 1) * COMMITS_PER_TASK, trees.length)
    runs[k] = diff([end < trees.length ? trees[end]! : '', ...trees.slice(k * COMMITS_PER_TASK, end).reverse()])
    // Awaited in order below; a failure of a later run must not go unhandled meanwhile.
    runs[k]!.catch(() => undefined)
  }
  let oid: string | undefined = head
  while (oid) {
    const commit = parseCommitData(oid, reader.readAs(oid, 'commit'))
    oids.push(oid)
    trees.push(commit.tree)
    times.push(commit.time)
    oid = reader.isShallow(oid) ? undefined : commit.parents[0]
    if (oids.length % COMMITS_PER_LOOK === 0) {
      // Let the threads' replies in, then hand idle ones the newest runs whose commit before is known.
      await new Promise((resolve) => setImmediate(resolve))
      for (let idle = idleThreads(oids.length); idle > 0 && (runs.length + 1) * COMMITS_PER_TASK < oids.length; idle--) start(runs.length)
    }
  }
  idleThreads(oids.length)
  const count = Math.ceil(oids.length / COMMITS_PER_TASK)
  const started = runs.length
  for (let k = count - 1; k >= started; k--) start(k)
  for (let k = count - 1; k >= 0; k--) fold(oids.length - Math.min((k + 1) * COMMITS_PER_TASK, oids.length), await runs[k]!)
  return { oids: oids.reverse(), times: times.reverse() }
}

/** Every blob under `entry` (a tree or a file at `file`), for the files the build mirrors as they are. */
function walkEntry(reader: ObjectReader, entry: RawEntry, file: string, out: { path: string; oid: string }[]): void {
  if (!isTreeMode(entry.mode)) out.push({ path: file, oid: entry.oid })
  else for (const child of reader.readTree(entry.oid)) walkEntry(reader, child, `${file}/${child.name}`, out)
}


export interface FullBuildOptions {
  /** Worker threads for the packages (default: one per core when the index is large, else none). */
  threads?: number
}

export async function fullBuild(ctx: BuildContext, out: string, reason: string | undefined, options: FullBuildOptions = {}): Promise<BuildApiResult> {
  const { reader } = ctx
  const root = await newTree(out)
  const writer = new TreeWriter(root)
  let pool: Pool | undefined
  try {
    // The history: which commit last changed each document, and the events of the feed.
    ctx.progress({ phase: 'reading the history of main' })
    const env: JobEnv = { reader, writer, site: ctx.site, indexDir: ctx.repo.dir, ...(ctx.pages ? { pages: ctx.pages } : {}) }
    const run = <T>(job: Job, transfer?: ArrayBuffer[]): Promise<T> => (pool ? pool.run<T>(job, transfer) : Promise.resolve(runJob(env, job) as T))
    // Threads start once the chain is known to be long enough (or at once, when their number is given).
    const idleThreads = (length: number): number => {
      const threads = options.threads ?? (length >= COMMITS_FOR_THREADS ? os.availableParallelism() : 0)
      if (threads > 0 && !pool) {
        const pages = ctx.pages ? { pages: { module: ctx.pages.module, format: ctx.pages.format } } : {}
        pool = new Pool(threads, { store: reader.share(), root, site: ctx.site, indexDir: ctx.repo.dir, ...pages })
      }
      return pool?.idle ?? 0
    }
    idleThreads(0)
    const scan = new Scan(() => true, false)
    const STATUS = { A: 'added', M: 'modified', D: 'deleted' } as const
    const fold = (first: number, lines: HistoryResult): void => {
      let changes: Change[] = []
      let commit = -1
      for (let start = 0; start < lines.length; ) {
        const end = lines.indexOf('\n', start)
        const tab = lines.indexOf('\t', start)
        const ordinal = first + Number(lines.slice(start, tab)) - 1
        if (ordinal !== commit) {
          if (changes.length) scan.add(commit, changes)
          changes = []
          commit = ordinal
        }
        changes.push({ path: lines.slice(tab + 3, end), status: STATUS[lines[tab + 1] as 'A' | 'M' | 'D'] })
        start = end + 1
      }
      if (changes.length) scan.add(commit, changes)
    }
    const chain = await readHistory(reader, ctx.head.oid, idleThreads, (trees) => run<HistoryResult>({ kind: 'history', trees }), fold)
    const commitOid = (ordinal: number | undefined) => (ordinal === undefined ? undefined : chain.oids[ordinal])

    // The tip: groups of packages for the threads; the rest of index/ mirrored here.
    const site = ctx.site
    const items = new Map<string, GroupItem>()
    const loose: { path: string; oid: string }[] = []
    const namespaceBlobs = new Map<string, ReturnType<typeof readBlobAt>>()
    const index = indexTree(reader, ctx.head.tree)
    const indexEntries = index ? reader.readTree(index) : []
    for (const entry of indexEntries.filter((e) => e.name === 'packages' && isTreeMode(e.mode))) {
      for (const ns of reader.readTree(entry.oid)) {
        if (!isTreeMode(ns.mode)) {
          const where = classifyPath(`${PACKAGES_DIR}/${ns.name}`)
          throw new WharfError('NOT_AN_INDEX', `${PACKAGES_DIR}/${ns.name} is not a version record or yank notice: ${where.kind === 'invalid' ? where.reason : where.kind}`, { hint: 'run wharf audit on the index' })
        }
        for (const top of reader.readTree(ns.oid)) items.set(`${ns.name}/${top.name}`, { ns: ns.name, top: top.name, entry: top })
      }
    }
    for (const entry of indexEntries) {
      if (entry.name === 'packages' && isTreeMode(entry.mode)) continue
      if (entry.name === 'reports' && isTreeMode(entry.mode)) {
        for (const ns of reader.readTree(entry.oid)) {
          if (!isTreeMode(ns.mode)) {
            loose.push({ path: `${REPORTS_DIR}/${ns.name}`, oid: ns.oid })
            continue
          }
          for (const top of reader.readTree(ns.oid)) {
            const item = items.get(`${ns.name}/${top.name}`)
            if (item) item.reports = top
            else walkEntry(reader, top, `${REPORTS_DIR}/${ns.name}/${top.name}`, loose)
          }
        }
        continue
      }
      walkEntry(reader, entry, `${INDEX_DIR}/${entry.name}`, loose)
    }
    for (const file of loose) {
      const blob = readBlobAt(reader, file.path, file.oid)
      writer.write(file.path, blob.bytes)
      const where = classifyPath(file.path)
      if (where.kind === 'namespace' && file.path.startsWith(`${NAMESPACES_DIR}/`) && file.path.split('/').length === 3) namespaceBlobs.set(where.namespace, blob)
    }

    const namespaceFiles = new Map([...namespaceBlobs].map(([ns, blob]) => [ns, parseNamespace(blob)]))

    // Groups in the order the history first touched them: packages that grew side by side have their files side by side
    // in the pack (delta chains against each other), so a task that reads them together rebuilds each chain once.
    const firstTouch = (item: GroupItem): number => {
      let first = Number.MAX_SAFE_INTEGER
      for (const ordinal of scan.byGroup.get(`${item.ns}/${item.top}`)?.values() ?? []) first = Math.min(first, ordinal)
      return first
    }
    const tasks: GroupTask[] = []
    const groups = [...items.values()].map((item) => ({ item, first: firstTouch(item) })).sort((a, b) => a.first - b.first).map(({ item }) => item)
    for (let i = 0; i < groups.length; i += GROUPS_PER_TASK) {
      const slice = groups.slice(i, i + GROUPS_PER_TASK)
      const commits: [string, string][] = []
      for (const item of slice) for (const [key, ordinal] of scan.byGroup.get(`${item.ns}/${item.top}`) ?? []) commits.push([key, chain.oids[ordinal]!])
      const namespaces = ctx.pages ? [...new Set(slice.map((item) => item.ns))].filter((ns) => namespaceFiles.has(ns)).map((ns): [string, NamespaceFile] => [ns, namespaceFiles.get(ns)!]) : []
      tasks.push({ items: slice, commits, namespaces })
    }

    // Snapshot lines by three-digit prefix, how many, and the content-addressed files (which two threads may both have placed).
    const leafChunks = new Map<string, string[]>()
    let lineCount = 0
    const placed = new Set<string>()
    let placedTwice = 0
    const addWritten = (written: ReturnType<TreeWriter['take']>) => {
      for (const [prefix, lines] of written.leaves) {
        const chunks = leafChunks.get(prefix)
        if (chunks) chunks.push(lines)
        else leafChunks.set(prefix, [lines])
      }
      lineCount += written.count
      for (const file of written.linked) {
        if (placed.has(file)) placedTwice++
        else placed.add(file)
      }
    }
    // The many documents of the whole registry (feed pages, dependents, the Cargo index, crates): rendered here, written
    // by the threads while this goes on rendering, their bytes handed over in one buffer a batch (moved, not copied).
    let later: string[] = []
    let contents: string[] = []
    let chars = 0
    const handedOut: Promise<void>[] = []
    const inFlight = new Set<Promise<void>>()
    const handOut = (): void => {
      if (!later.length) return
      const ends: number[] = []
      let total = 0
      for (const content of contents) ends.push((total += Buffer.byteLength(content)))
      const bytes = Buffer.from(new ArrayBuffer(total))
      contents.forEach((content, i) => bytes.write(content, i ? ends[i - 1]! : 0))
      const job = run<FilesResult>({ kind: 'files', files: later, ends, bytes }, [bytes.buffer as ArrayBuffer]).then((result) => addWritten(result.written))
      job.catch(() => undefined)
      handedOut.push(job)
      inFlight.add(job)
      void job.finally(() => inFlight.delete(job)).catch(() => undefined)
      later = []
      contents = []
      chars = 0
    }
    // Rendering runs ahead of writing; a few batches each thread waiting is enough, not the whole feed in memory.
    const writeLater = async (file: string, content: string): Promise<void> => {
      later.push(file)
      contents.push(content)
      chars += content.length
      if (later.length < FILES_PER_TASK && chars < CHARS_PER_TASK) return
      handOut()
      while (inFlight.size > 2 * (pool?.size ?? 1)) await Promise.race(inFlight)
    }
    const summaries: PackageSummary[] = []
    // The package pages the tasks left open for their dependents, and the packages of each.
    const openPages: { file: string; ids: string[] }[] = []
    // Every package the history published to (one whose files were all removed since is counted too: a rare edge for a progress line).
    const total = scan.born.size

    // The feed follows the tasks as they finish, so its pages (and the dependents lists and crate claims, folded in the
    // same order) are rendered here while the threads still read packages, not after. An event waits for the task that
    // reads its package; an event of a package gone from the tip has none and is left out, as is one the task did not
    // report (a file at the tip that is no record or notice).
    const taskOf = new Map<string, number>()
    tasks.forEach((task, t) => {
      for (const item of task.items) taskOf.set(`${item.ns}/${item.top}`, t)
    })
    const finished = new Uint8Array(tasks.length)
    // What the feed says of each record and yank notice at the tip: `<artifact sha256>\t<file sha256>\t<crate name>\t<dependencies>` by path.
    const feedInfo = new Map<string, string>()
    let page: FeedEntry[] = []
    let seq = 0
    let next = 0
    const claims = new Map<string, { crate: string; package: string; commit: string }>()
    const dependents = new Map<string, DependentsDoc>()
    let newest: FeedEntry[] = []
    const advanceFeed = async (): Promise<void> => {
      for (; next < scan.events.length; next++) {
        const event = scan.events[next]!
        const task = taskOf.get(groupOf(event.id))
        if (task === undefined) continue
        if (!finished[task]) return
        const info = feedInfo.get(event.path)?.split('\t')
        if (!info) continue
        feedInfo.delete(event.path)
        const [sha256, fileSha, crate, deps] = info
        // Keys in order: stableJson then copies none of a million entries.
        page.push({
          commit: chain.oids[event.commit]!,
          file: event.path,
          file_sha256: fileSha!,
          name: event.id,
          seq: ++seq,
          sha256: sha256!,
          time: timestamp(new Date(chain.times[event.commit]! * 1000)),
          type: event.type,
          version: event.version,
        })
        // The first to publish a crate name keeps it, as on crates.io.
        if (event.type === 'publish' && crate && !claims.has(crateKey(crate))) claims.set(crateKey(crate), { crate, package: event.id, commit: chain.oids[event.commit]! })
        if (event.type === 'publish') {
          foldDependents(dependents, dependingRecord(event.id, event.version, deps!), chain.oids[event.commit]!)
          newest.push(page[page.length - 1]!)
          if (newest.length > 2 * NEWEST_COUNT) newest = newest.slice(-NEWEST_COUNT)
        }
        if (page.length === FEED_PAGE_SIZE) {
          await writeLater(feedPagePath(feedPageOf(seq)), renderFeedPage(feedPageOf(seq), page))
          page = []
        }
      }
    }
    let feeding = Promise.resolve()
    const finish = (t: number, result: GroupsResult): void => {
      ctx.progress({ phase: 'packages', done: summaries.length + result.packages.length, total })
      for (const summary of result.packages) {
        for (const line of summary.feed.split('\n')) {
          const tab = line.indexOf('\t')
          if (tab > 0) feedInfo.set(line.slice(0, tab), line.slice(tab + 1))
        }
        summary.feed = ''
        summaries.push(summary)
      }
      if (result.openPages) openPages.push({ file: result.openPages, ids: result.packages.map((p) => p.id) })
      addWritten(result.written)
      finished[t] = 1
      // One advance at a time, in order; a failure surfaces where the feed is awaited below.
      feeding = feeding.then(advanceFeed)
      feeding.catch(() => undefined)
    }
    ctx.progress({ phase: 'packages', done: 0, total })
    // A task more than there are threads, so a thread never waits for the next; and no more, so that the feed's files
    // (queued behind them for the same threads) are written as the feed goes, not after every package.
    let taken = 0
    const takeTasks = async (): Promise<void> => {
      while (taken < tasks.length) {
        const t = taken++
        finish(t, await run<GroupsResult>({ kind: 'groups', task: tasks[t]! }))
      }
    }
    await Promise.all(Array.from({ length: (pool?.size ?? 0) + 1 }, takeTasks))
    // The advance after the last task reached the end of the feed.
    await feeding
    feedInfo.clear()
    summaries.sort((a, b) => (a.id < b.id ? -1 : 1))
    if (page.length) await writeLater(feedPagePath(feedPageOf(seq)), renderFeedPage(feedPageOf(seq), page))
    page = []
    newest = newest.slice(-NEWEST_COUNT).reverse()
    for (const doc of dependents.values()) await writeLater(dependentsPath(doc.name), renderDependentsDoc(doc))

    for (const summary of summaries) {
      for (const crate of summary.crates) {
        const holder = claims.get(crate.key)?.package
        if (holder !== summary.id) ctx.warnings.push(`${summary.id}: crate name ${crate.name} belongs to ${holder ?? 'no package'}; its versions are left out of the Cargo index`)
        else await writeLater(cargoIndexPath(crate.name), crate.lines)
      }
    }
    for (const [key, claim] of claims) await writeLater(crateDocPath(key), renderCrateDoc(site, claim.crate, claim.package, claim.commit, cargoIndexPath(claim.crate)))

    const byNamespace = new Map<string, string[]>()
    for (const { id } of summaries) {
      const ns = id.slice(0, id.indexOf(':'))
      const members = byNamespace.get(ns)
      if (members) members.push(id)
      else byNamespace.set(ns, [id])
    }
    for (const [ns, blob] of namespaceBlobs) {
      const file = namespaceFiles.get(ns)!
      const members = byNamespace.get(ns) ?? []
      writer.write(namespaceDocPath(ns), renderNamespaceDoc(site, file, members, commitOid(scan.touched.get(`n:${ns}`)) ?? ctx.head.oid, blob.path))
      if (ctx.pages) for (const [file2, bytes] of siteFiles(ctx.pages.namespace({ context: pageContext(site), namespace: file, packages: members }))) writer.write(file2, bytes)
    }
    if (ctx.pages) {
      // The package pages list their dependents, complete only now.
      let closed = 0
      ctx.progress({ phase: 'pages', done: 0, total: summaries.length })
      await Promise.all(
        openPages.map(async ({ file, ids }) => {
          const lists = ids.filter((id) => dependents.has(id)).map((id): [string, Dependent[]] => [id, sortedDependents(dependents.get(id))])
          const result = await run<PagesResult>({ kind: 'pages', task: { file, dependents: lists } })
          closed += result.packages
          ctx.progress({ phase: 'pages', done: closed, total: summaries.length })
          addWritten(result.written)
        }),
      )
      await fs.promises.rm(path.join(root, OPEN_PAGES_DIR), { recursive: true, force: true })
    }
    dependents.clear()
    // The package list in pages, in the order packages first appeared: an incremental build only ever appends to it.
    const listed = summaries.map((s) => ({ id: s.id, born: scan.born.get(s.id) ?? -1 })).sort((a, b) => a.born - b.born || (a.id < b.id ? -1 : 1))
    const pageSize = ctx.sizes.packageListPage
    for (let at = 0; at < listed.length; at += pageSize) {
      const page = listed.slice(at, at + pageSize)
      await writeLater(packageListPagePath(at / pageSize), renderPackageListPage(at / pageSize, pageSize, page.map((p) => p.id), commitOid(page[page.length - 1]!.born) ?? ctx.head.oid))
    }
    writer.write(PATHS.packages, renderPackageList(site, listed.length, pageSize, commitOid(scan.touched.get('packages')) ?? null))
    writer.write(PATHS.namespaces, renderNamespaceList([...namespaceBlobs.keys()], commitOid(scan.touched.get('namespaces')) ?? null))

    const searchOf = new Map(summaries.map((s) => [s.id, s.search]))
    const shardInfo = new Map<string, { count: number; sha256: string }>()
    const shardItems = summaries.map((s) => shardItem(s.id, scan.born.get(s.id) ?? -1, scan.packageCommit(s.id, `p:${s.id}`)!))
    for (const [shard, { items: members, commit }] of planShards('', shardItems, -1, ctx.sizes.searchShard)) {
      const sha256 = writer.write(searchShardPath(shard), renderSearchShard(shard, members.map((m) => searchOf.get(m.id)!), chain.oids[commit]!))
      shardInfo.set(shard, { count: members.length, sha256 })
    }
    searchOf.clear()
    const counts: Counts = {
      packages: summaries.length,
      versions: summaries.reduce((n, s) => n + s.versions, 0),
      yanked: summaries.reduce((n, s) => n + s.yanked, 0),
      namespaces: namespaceBlobs.size,
      crates: claims.size,
    }
    await writeAggregates(ctx, writer, site, counts, seq, renderSearchIndex(site, shardInfo))
    // What every build rewrites is named in snapshot.json itself: the aggregates, and the site's.
    const rootFiles = rootPaths(seq, counts.packages, pageSize)
    if (ctx.pages) {
      const input = { context: pageContext(site), head: site.head, counts, newest, namespaces: [...namespaceBlobs.keys()].sort() }
      for (const [file, bytes] of siteFiles(ctx.pages.aggregates(input))) {
        writer.write(file, bytes)
        rootFiles.push(file)
      }
    }

    handOut()
    await Promise.all(handedOut)
    ctx.progress({ phase: 'signing the snapshot' })
    // The snapshot of everything written: subtrees by three-digit prefix (on the threads), parts, and the signed top.
    addWritten(writer.take())
    placed.clear()
    const fileCount = lineCount - placedTwice
    const files = takeLines(leafChunks, rootFiles)
    const leafDigits = leafDigitsFor(fileCount, ctx.sizes.snapshotLeaf)
    const leafJobs: [string, string][][] = [[]]
    for (const [prefix, chunks] of leafChunks) {
      const batch = leafJobs[leafJobs.length - 1]!
      batch.push([prefix, chunks.join('')])
      if (batch.length === 128) leafJobs.push([])
    }
    leafChunks.clear()
    const rendered = (await Promise.all(leafJobs.map((leaves) => run<LeavesResult>({ kind: 'leaves', leaves, digits: leafDigits })))).flat()
    const byPart = new Map<string, Map<string, string>>()
    for (const [digests] of rendered) {
      for (const [name, digest] of digests) {
        const part = name.slice(0, 2)
        if (!byPart.has(part)) byPart.set(part, new Map())
        byPart.get(part)!.set(name.slice(2), digest)
      }
    }
    const parts: Record<string, string> = {}
    for (const [part, children] of byPart) parts[part] = writer.write(partPath(part), renderPart(part, children))
    writer.write(SNAPSHOT_PATH, renderSnapshot({ registry: site.registry.name, commit: ctx.head.oid, now: ctx.now, ttlSeconds: ctx.ttlSeconds, parts, fileCount, leafDigits, files, key: ctx.key }))
    writer.write(PATHS.state, renderState({ format: API_FORMAT, commit: ctx.head.oid, base_url: ctx.baseUrl, releases: ctx.site.releases, seq, counts, pages: ctx.pages?.format }), false)
    await pool?.close()
    pool = undefined
    await swapIn(out, root)
    return {
      mode: 'full',
      ...(reason ? { reason } : {}),
      commit: ctx.head.oid,
      tree: root,
      written: fileCount + rendered.reduce((n, r) => n + r[2], 0) + byPart.size + 2,
      removed: 0,
      packages: summaries.length,
      events: seq,
      seq,
      warnings: ctx.warnings,
    }
  } catch (e) {
    await pool?.close()
    await fs.promises.rm(root, { recursive: true, force: true })
    throw noSpaceError(e, 'the full build') ?? e
  }
}

/**
 * Takes the lines of `paths` out of the snapshot lines by three-digit prefix
 * (snapshot.json names these files itself, no leaf does): path to sha256.
 */
function takeLines(leafChunks: Map<string, string[]>, paths: string[]): Record<string, string> {
  const files: Record<string, string> = {}
  for (const file of paths) {
    const hash = sha256Hex(file)
    const start = `${hash.slice(0, 8)}\t${file}\t`
    const chunks = leafChunks.get(hash.slice(0, 3)) ?? []
    const i = chunks.findIndex((chunk) => chunk.startsWith(start) || chunk.includes(`\n${start}`))
    if (i < 0) throw new Error(`the full build lost track of ${file}`)
    const chunk = chunks[i]!
    const at = chunk.startsWith(start) ? 0 : chunk.indexOf(`\n${start}`) + 1
    const end = chunk.indexOf('\n', at)
    files[file] = chunk.slice(at + start.length, end)
    chunks[i] = chunk.slice(0, at) + chunk.slice(end + 1)
    if (chunks.every((c) => c === '')) leafChunks.delete(hash.slice(0, 3))
  }
  return files
}
