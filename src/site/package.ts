/**
 * The pages and badges of one package: its own page (the latest version in
 * full, every version listed, a chart across versions, dependents) and one
 * page per version. A version's page depends only on that version, its
 * package's id and its namespace file, so a new version leaves the bytes of
 * the other version pages as they were.
 */
import semver from 'semver'
import { artifactPath, latestVersion, primaryArtifact, type Dependent, type OpenPage, type PackageModel, type PackagePages, type PackagePagesInput, type SiteFile, type VersionEntry } from '../api/index.js'
import { checkPackageId } from '../core/names.js'
import type { Owner } from '../core/types.js'
import { isLocalUrl, LOCAL_URL_PREFIX } from '../store/index.js'
import { BADGE_TARGETS, targetBadge, versionBadge } from './badges.js'
import { lineChart } from './chart.js'
import { formatBytes, formatDate, formatMs, formatRatio } from './format.js'
import { clip, externalLink, html, joined, type Html } from './html.js'
import { pageAround, renderPage } from './layout.js'
import { badgePath, linkTo, namespacePage, packagePage, targetBadgePath, versionPage } from './paths.js'
import { readMatrix, targetStatus, type MatrixView, type TargetView } from './report.js'

/** Versions the chart shows, newest last. */
const CHART_VERSIONS = 24
const DESCRIPTION_MAX = 2_000

interface Ctx {
  input: PackagePagesInput
  /** The page being written: every link is relative to it. */
  path: string
  matrices: Map<string, MatrixView | undefined>
  shared: Shared
}

/**
 * What every page of a package shows alike, made once for all of them: its
 * pages share a directory (`packages/<id>.html` beside `packages/<id>@<version>.html`),
 * so even their relative links agree.
 */
interface Shared {
  crumbs: Html
  namespaceLink: Html
  owners: Html
  /** A signing key's standing in the namespace, by key id. */
  keys: Map<string, Html>
  /** Links to other packages (dependencies, nested packages), by id: every version names mostly the same ones. */
  links: Map<string, Html>
  /** Links out (repository, homepage, source), by URL: every version names mostly the same ones. */
  outside: Map<string, Html>
}

function sharedParts(input: PackagePagesInput): Shared {
  const path = packagePage(input.package.id)
  const ns = input.package.namespace
  const namespaceLink = html`<a href="${linkTo(path, namespacePage(ns))}">${ns}</a>`
  const owners = input.namespace?.owners.length ? html`<ul>${input.namespace.owners.map((o) => html`<li>${ownerText(o)}</li>`)}</ul>` : html`<p>No owners listed.</p>`
  return {
    crumbs: html`<p class="crumbs">${namespaceLink} / <a href="${linkTo(path, path)}">${input.package.id}</a></p>`,
    namespaceLink,
    owners: html`<p>Owners of ${namespaceLink}:</p>${owners}`,
    keys: new Map(),
    links: new Map(),
    outside: new Map(),
  }
}

const to = (ctx: Ctx, target: string) => linkTo(ctx.path, target)

/** A link from the page at `from` to package `id`'s page; a name that is no package id (a broken index) stays text. */
function packageLinkFrom(from: string, id: string): Html {
  return checkPackageId(id) === undefined ? html`<a href="${linkTo(from, packagePage(id))}">${id}</a>` : html`<span>${id}</span>`
}

/** A link from one of the package's pages (they share a directory, so links from them agree) to package `id`'s page. */
function packageLink(ctx: Ctx, id: string): Html {
  let link = ctx.shared.links.get(id)
  if (!link) ctx.shared.links.set(id, (link = packageLinkFrom(ctx.path, id)))
  return link
}

/** A link out from one of the package's pages (externalLink), made once per package. */
function outsideLink(ctx: Ctx, url: string): Html {
  let link = ctx.shared.outside.get(url)
  if (!link) ctx.shared.outside.set(url, (link = externalLink(url)))
  return link
}

function statusPill(status: string): Html {
  const known = ['pass', 'fail', 'unavailable', 'not-run', 'skipped'].includes(status) ? status : 'other'
  return html`<span class="status status-${known}">${status}</span>`
}

function ownerText(owner: Owner): Html {
  if ('team' in owner) return html`<span>${owner.team}</span> <span class="muted">(team)</span>`
  return html`<span>${owner.login}</span>${owner.id !== undefined ? html` <span class="muted">(GitHub id ${owner.id})</span>` : ''}`
}

function section(id: string, title: string, body: Html): Html {
  return html`<section aria-labelledby="${id}"><h2 id="${id}">${title}</h2>
${body}
</section>`
}

/** A scrollable box (wide tables, long code) that keyboard users can focus and scroll. */
function scroller(label: string, body: Html): Html {
  return html`<div class="scroll" role="region" aria-label="${label}" tabindex="0">${body}</div>`
}

function code(label: string, text: string): Html {
  return html`<pre class="code" role="region" aria-label="${label}" tabindex="0"><code>${text}</code></pre>`
}

function installSnippets(ctx: Ctx, entry: VersionEntry, exact: boolean): Html {
  const { baseUrl } = ctx.input.context
  const record = entry.record
  const ref = `${record.name}@${exact ? `=${record.version}` : record.version}`
  const parts: Html[] = [html`<h3>wharf</h3>${code('wharf install command', `npx wharf install ${ref} --registry ${baseUrl}`)}`]
  if (record.kind === 'component') parts.push(html`<h3>Run</h3>${code('run install command', `run v2 install ${record.name}@${record.version} --registry ${baseUrl}`)}`)
  if (record.crate) {
    const version = exact ? `=${record.version}` : record.version
    parts.push(
      html`<h3>Cargo</h3>${code('Cargo configuration', `# .cargo/config.toml\n[registries.wharf]\nindex = "sparse+${baseUrl}/cargo/"\n\n# Cargo.toml\n[dependencies]\n${record.crate.name} = { version = "${version}", registry = "wharf" }`)}`,
    )
  }
  return section('install', 'Install', html`${parts}`)
}

const row = (label: string, value: Html | string | undefined) => (value === undefined ? '' : html`<dt>${label}</dt><dd>${value}</dd>`)

function facts(ctx: Ctx, entry: VersionEntry): Html {
  const record = entry.record
  return html`<dl class="facts">
${row('Version', record.version)}
${row('Kind', record.kind)}
${row('License', record.license ?? 'not stated')}
${row('Repository', record.repository ? outsideLink(ctx, record.repository) : undefined)}
${row('Homepage', record.homepage ? outsideLink(ctx, record.homepage) : undefined)}
${row('Published', html`<time datetime="${record.published_at}">${formatDate(record.published_at)}</time> by ${record.publisher.login}`)}
${row('Namespace', ctx.shared.namespaceLink)}
${row('Crate', record.crate?.name)}
${row('Keywords', record.keywords?.length ? record.keywords.join(', ') : undefined)}
${row('Source', record.source ? html`${outsideLink(ctx, record.source.repository)} <span class="mono">${record.source.commit.slice(0, 12)}</span>${record.source.path ? html` <span class="mono">${record.source.path}</span>` : ''}` : undefined)}
</dl>`
}

function yankNotice(entry: VersionEntry): Html {
  if (!entry.yank) return html``
  const notice = entry.yank.notice
  return html`<p class="notice" role="note"><strong>Yanked</strong> on <time datetime="${notice.yanked_at}">${formatDate(notice.yanked_at)}</time>: ${clip(notice.reason, 500)}. Lockfiles that name it still resolve; nothing new should depend on it.</p>`
}

function artifacts(ctx: Ctx, entry: VersionEntry): Html {
  const rows = entry.record.artifacts.map((a) => {
    const href = isLocalUrl(a.url) ? html`<a href="${to(ctx, artifactPath(a.url.slice(LOCAL_URL_PREFIX.length)))}">download</a>` : externalLink(a.url, 'download')
    return html`<tr><td>${a.name}</td><td>${a.target}</td><td class="num">${formatBytes(a.size)}</td><td class="mono hash">${a.sha256}</td><td>${href}</td></tr>`
  })
  return section(
    'artifacts',
    'Artifacts',
    scroller(
      'Artifacts',
      html`<table><thead><tr><th scope="col">File</th><th scope="col">Target</th><th scope="col">Size</th><th scope="col">SHA-256</th><th scope="col"><span class="visually-hidden">Link</span></th></tr></thead><tbody>${rows}</tbody></table>`,
    ),
  )
}

function testCounts(t: TargetView): string {
  if (t.passed === undefined && t.failed === undefined) return ''
  return `${t.passed ?? 0} passed, ${t.failed ?? 0} failed${t.ignored ? `, ${t.ignored} ignored` : ''}`
}

function matrixSection(ctx: Ctx, entry: VersionEntry): Html {
  const matrix = ctx.matrices.get(entry.version)
  const others = entry.reports.filter((r) => r.path !== matrix?.path)
  const files = entry.reports.length
    ? html`<p class="muted">Report files: ${entry.reports.map((r, i) => html`${i ? ', ' : ''}<a href="${to(ctx, r.path)}">${r.path.split('/').pop()}</a>`)}</p>`
    : html``
  if (!matrix) {
    return section('matrix', 'Compatibility', html`<p>No compatibility report for ${entry.version} yet: the registry's CI writes one after the version lands.</p>${others.length ? files : ''}`)
  }
  const rows = matrix.targets.map(
    (t) =>
      html`<tr><th scope="row">${t.target}</th><td>${statusPill(t.status)}</td><td>${statusPill(t.build)}</td><td>${statusPill(t.test)} ${testCounts(t)}</td><td class="num">${t.size ? formatBytes(t.size.raw) : ''}</td><td class="num">${t.size?.gzip !== undefined ? formatBytes(t.size.gzip) : ''}</td><td class="num">${t.wallMs !== undefined ? formatMs(t.wallMs) : ''}</td><td>${t.runtime ?? ''}</td></tr>`,
  )
  const blame = matrix.targets.flatMap((t) =>
    t.blame.map(
      (b) =>
        html`<li><strong>${b.crate}${b.version ? ` ${b.version}` : ''}</strong> broke the ${b.stage} on <span class="mono">${t.target}</span>${b.path.length > 1 ? html` (via ${joined(b.path, ' &rarr; ')})` : ''}: <span class="mono">${b.error}</span>${b.hint ? html`<br><span class="hint">Hint: ${b.hint}</span>` : ''}</li>`,
    ),
  )
  const failures = matrix.targets.filter((t) => t.firstFailure).map((t) => html`<li><span class="mono">${t.target}</span>: <span class="mono">${t.firstFailure}</span></li>`)
  const verdicts = html`<dl class="facts">
<dt>Score</dt><dd>${matrix.score ? html`<strong>${matrix.score.total}</strong> / 100` : 'not scored'}</dd>
<dt>Dual compilation</dt><dd>${matrix.dual ? html`${matrix.dual.value ? 'yes' : 'no'} <span class="muted">${matrix.dual.reason}</span>` : 'unknown'}</dd>
<dt>Speed (wasm / native)</dt><dd>${matrix.speed ? html`${formatRatio(matrix.speed.value)} <span class="muted">${matrix.speed.target ?? ''} ${matrix.speed.basis}</span>` : 'not measured'}</dd>
<dt>GC readiness</dt><dd>${matrix.gc ? matrix.gc.level : 'unknown'}</dd>
</dl>`
  const ladder = matrix.gc?.ladder.length
    ? html`<h3>GC readiness ladder</h3><ul class="ladder">${matrix.gc.ladder.map((r) => html`<li><strong>${r.level}</strong> ${r.met === null ? 'not checked' : r.met ? 'met' : 'not met'}: ${r.evidence}</li>`)}</ul>`
    : html``
  const breakdown = matrix.score?.breakdown.length
    ? html`<h3>Score breakdown</h3>${scroller(
        'Score breakdown',
        html`<table><thead><tr><th scope="col">Part</th><th scope="col">Weight</th><th scope="col">Value</th><th scope="col">Points</th><th scope="col">Detail</th></tr></thead><tbody>${matrix.score.breakdown.map(
          (p) =>
            html`<tr><th scope="row">${p.name.replace(/_/g, ' ')}</th><td class="num">${p.weight ?? ''}</td><td class="num">${p.value === undefined ? 'n/a' : p.value.toFixed(2)}</td><td class="num">${p.points === undefined ? '' : p.points.toFixed(1)}</td><td>${p.detail}</td></tr>`,
        )}</tbody></table>`,
      )}`
    : html``
  return section(
    'matrix',
    'Compatibility',
    html`<p class="muted">Built and tested by the registry${matrix.host ? ` on ${matrix.host}` : ''}${matrix.generatedAt ? html`, <time datetime="${matrix.generatedAt}">${formatDate(matrix.generatedAt)}</time>` : ''}.</p>
${scroller(
  'Compatibility matrix',
  html`<table class="matrix"><thead><tr><th scope="col">Target</th><th scope="col">Status</th><th scope="col">Build</th><th scope="col">Tests</th><th scope="col">Size</th><th scope="col">gzip</th><th scope="col">Time</th><th scope="col">Runtime</th></tr></thead><tbody>${rows}</tbody></table>`,
)}
${verdicts}
${blame.length ? html`<h3>Blamed dependencies</h3><ul class="blame">${blame}</ul>` : ''}
${failures.length ? html`<h3>First failures</h3><ul>${failures}</ul>` : ''}
${breakdown}
${ladder}
${files}`,
  )
}

function witSection(ctx: Ctx, entry: VersionEntry): Html {
  const world = ctx.matrices.get(entry.version)?.wit
  const wit = entry.wit
  if (!world && !wit) return html``
  const list = (title: string, names: string[]) => (names.length ? html`<h3>${title}</h3><ul class="mono">${names.map((n) => html`<li>${n}</li>`)}</ul>` : html``)
  return section('wit', 'WIT world', html`${world ? code('WIT world', world) : ''}${!world && wit ? html`${list('Exports', wit.exports)}${list('Imports', wit.imports)}` : ''}`)
}

function dependencies(ctx: Ctx, entry: VersionEntry): Html {
  const deps = entry.record.dependencies
  if (!deps.length) return NO_DEPENDENCIES
  return section(
    'dependencies',
    'Dependencies',
    html`<ul class="deps">${deps.map((d) => html`<li>${packageLink(ctx, d.name)} <span class="mono">${d.req}</span>${d.optional ? html` <span class="muted">(optional)</span>` : ''}</li>`)}</ul>`,
  )
}

const NO_DEPENDENCIES = section('dependencies', 'Dependencies', html`<p>None.</p>`)

function signature(ctx: Ctx, entry: VersionEntry): Html {
  const keys = entry.record.signature.signatures.map((s) => {
    let item = ctx.shared.keys.get(s.keyid)
    if (!item) {
      const listed = ctx.input.namespace?.keys.find((k) => k.id === s.keyid)
      const state = !listed ? "not among the namespace's keys now" : listed.revoked ? `revoked ${formatDate(listed.revoked)}` : `a key of ${ctx.input.package.namespace} since ${formatDate(listed.added)}`
      item = html`<li><span class="mono">${s.keyid}</span> <span class="muted">(${state})</span></li>`
      ctx.shared.keys.set(s.keyid, item)
    }
    return item
  })
  return section(
    'signature',
    'Signature and owners',
    html`<p>The record is signed (Ed25519, DSSE) with key${keys.length === 1 ? '' : 's'}:</p><ul>${keys}</ul>
${ctx.shared.owners}
<p class="muted">Files: <a href="${to(ctx, entry.file.path)}">signed record</a>${entry.yank ? html` &middot; <a href="${to(ctx, entry.yank.file.path)}">yank notice</a>` : ''} &middot; <a href="${to(ctx, `api/v1/packages/${entry.record.name}/${entry.version}`)}">API document</a></p>`,
  )
}

/**
 * The targets whose badge this package writes: every target once the
 * registry has tested any version of it (before that there is nothing to
 * say), except one a nested package is named like, which keeps that path for
 * its own badge. The set only grows (reports are only added), so an
 * incremental build never leaves a badge a full build would not write.
 */
function badgeTargets(input: PackagePagesInput, matrices: Map<string, MatrixView | undefined>): string[] {
  if (![...matrices.values()].some((m) => m !== undefined)) return []
  const taken = new Set(input.children.map((c) => c.slice(input.package.id.length + 1)))
  return BADGE_TARGETS.filter((t) => !taken.has(t))
}

function badges(ctx: Ctx, latest: VersionEntry | undefined): Html {
  const id = ctx.input.package.id
  const base = ctx.input.context.baseUrl
  const matrix = latest ? ctx.matrices.get(latest.version) : undefined
  const targets = badgeTargets(ctx.input, ctx.matrices)
  const markdown = `[![${id}](${base}/${badgePath(id)})](${base}/${packagePage(id)})`
  return section(
    'badges',
    'Badges',
    html`<p class="badges"><img src="${to(ctx, badgePath(id))}" alt="${latest ? `latest version ${latest.version}` : 'every version yanked'}" height="20">
${targets.map((t) => html`<img src="${to(ctx, targetBadgePath(id, t))}" alt="${t}: ${targetStatus(matrix, t) ?? 'untested'}" height="20">`)}</p>
<p>For a README:</p>${code('Badge Markdown', markdown)}`,
  )
}

function versionsTable(ctx: Ctx): Html {
  const rows = [...ctx.input.package.versions].reverse().map((v) => {
    const matrix = ctx.matrices.get(v.version)
    return html`<tr${v.yank ? html` class="yanked"` : ''}><th scope="row"><a href="${to(ctx, versionPage(ctx.input.package.id, v.version))}">${v.version}</a></th><td><time datetime="${v.record.published_at}">${formatDate(v.record.published_at)}</time></td><td class="num">${formatBytes(primaryArtifact(v.record).size)}</td><td class="num">${matrix?.score ? matrix.score.total : ''}</td><td class="num">${matrix?.speed ? formatRatio(matrix.speed.value) : ''}</td><td>${v.yank ? html`<strong>yanked</strong>: ${clip(v.yank.notice.reason, 200)}` : ''}</td></tr>`
  })
  return section(
    'versions',
    `Versions (${ctx.input.package.versions.length})`,
    scroller(
      'Versions',
      html`<table><thead><tr><th scope="col">Version</th><th scope="col">Published</th><th scope="col">Size</th><th scope="col">Score</th><th scope="col">Speed</th><th scope="col">Yanked</th></tr></thead><tbody>${rows}</tbody></table>`,
    ),
  )
}

function charts(ctx: Ctx): Html {
  const versions = ctx.input.package.versions.slice(-CHART_VERSIONS)
  const size = lineChart(
    'chart-size',
    'Artifact size by version',
    versions.map((v) => ({ label: v.version, value: primaryArtifact(v.record).size })),
    formatBytes,
  )
  const speed = lineChart(
    'chart-speed',
    'Speed ratio (wasm / native) by version',
    versions.map((v) => ({ label: v.version, value: ctx.matrices.get(v.version)?.speed?.value })),
    formatRatio,
  )
  return section(
    'trends',
    'Size and speed across versions',
    html`<div class="charts"><figure>${size}<figcaption>Artifact size</figcaption></figure>${speed ? html`<figure>${speed}<figcaption>Speed ratio, wasm / native (lower is faster)</figcaption></figure>` : html`<p class="muted">No speed measured yet.</p>`}</div>`,
  )
}

/** The dependents of package `id` as listed on its page at `page`. */
function dependents(page: string, id: string, list: readonly Dependent[]): Html {
  if (!list.length) return section('dependents', 'Dependents', html`<p>No package depends on ${id} yet.</p>`)
  return section(
    'dependents',
    `Dependents (${list.length})`,
    html`<ul class="deps">${list.map((d) => html`<li>${packageLinkFrom(page, d.name)} <span class="muted">${d.version} needs</span> <span class="mono">${d.req}</span>${d.optional ? html` <span class="muted">(optional)</span>` : ''}</li>`)}</ul>`,
  )
}

function children(ctx: Ctx): Html {
  if (!ctx.input.children.length) return html``
  return section('nested', 'Nested packages', html`<ul>${ctx.input.children.map((c) => html`<li>${packageLink(ctx, c)}</li>`)}</ul>`)
}

function heading(ctx: Ctx, entry: VersionEntry, title: string): Html {
  return html`${ctx.shared.crumbs}
<h1>${title} <span class="kind">${entry.record.kind}</span></h1>
<p class="lede">${clip(entry.record.description, DESCRIPTION_MAX) || 'No description.'}</p>`
}

function packagePageHtml(ctx: Ctx, latest: VersionEntry, allYanked: boolean): OpenPage {
  const pkg = ctx.input.package
  // What the package uses and what uses it close the page: a popular package's dependents are a long list, and a full
  // build, which knows them last, keeps aside only what follows them until then.
  const main = html`${heading(ctx, latest, pkg.id)}
${allYanked ? html`<p class="notice" role="note"><strong>Every version is yanked.</strong> The newest is shown.</p>` : ''}
${facts(ctx, latest)}
${installSnippets(ctx, latest, false)}
${badges(ctx, allYanked ? undefined : latest)}
${artifacts(ctx, latest)}
${matrixSection(ctx, latest)}
${witSection(ctx, latest)}
${children(ctx)}
${versionsTable(ctx)}
${charts(ctx)}
${signature(ctx, latest)}
${dependencies(ctx, latest)}
`
  const [start, end] = pageAround({ path: ctx.path, title: [pkg.id], description: clip(latest.record.description, 160), context: ctx.input.context })
  return { id: pkg.id, path: ctx.path, head: `${start}${main.text}`, tail: end }
}

function versionPageHtml(ctx: Ctx, entry: VersionEntry): string {
  const pkg = ctx.input.package
  const main = html`${heading(ctx, entry, `${pkg.id}@${entry.version}`)}
${yankNotice(entry)}
<p><a href="${to(ctx, packagePage(pkg.id))}">Every version of ${pkg.id}</a></p>
${facts(ctx, entry)}
${installSnippets(ctx, entry, true)}
${artifacts(ctx, entry)}
${matrixSection(ctx, entry)}
${witSection(ctx, entry)}
${dependencies(ctx, entry)}
${signature(ctx, entry)}`
  return renderPage({ path: ctx.path, title: [`${pkg.id}@${entry.version}`], description: clip(entry.record.description, 160), context: ctx.input.context, main })
}

/** The package's page (left open for its dependents), one page per version, and its badges. */
export function renderPackage(input: PackagePagesInput): PackagePages {
  const pkg: PackageModel = input.package
  const matrices = new Map(pkg.versions.map((v) => [v.version, readMatrix(v.reports)] as const))
  const latestId = latestVersion(pkg)
  const latest = pkg.versions.find((v) => v.version === latestId) ?? pkg.versions[pkg.versions.length - 1]!
  const files: SiteFile[] = []
  const shared = sharedParts(input)
  const page = (path: string) => ({ input, path, matrices, shared })
  const open = packagePageHtml(page(packagePage(pkg.id)), latest, latestId === null)
  for (const entry of pkg.versions) files.push({ path: versionPage(pkg.id, entry.version), bytes: versionPageHtml(page(versionPage(pkg.id, entry.version)), entry) })
  files.push({ path: badgePath(pkg.id), bytes: versionBadge(input.context.registry.name, latestId, latestId !== null && semver.prerelease(latestId) !== null) })
  const matrix = latestId === null ? undefined : matrices.get(latest.version)
  for (const target of badgeTargets(input, matrices)) files.push({ path: targetBadgePath(pkg.id, target), bytes: targetBadge(target, targetStatus(matrix, target)) })
  return { files, open }
}

/** What goes between the head and the tail of a package's page: its dependents. */
export function renderDependents(page: Omit<OpenPage, 'head' | 'tail'>, list: Dependent[]): string {
  return dependents(page.path, page.id, list).text
}
