/**
 * Where each page lives in the output, and how one page links to another.
 * Links are relative, so the site works under any path prefix (a project's
 * GitHub Pages, a subdirectory of a CDN) and from a copy on disk.
 *
 *   index.html, namespaces.html, publish.html    home and the pages that list or explain
 *   namespaces/<ns>.html                         a namespace
 *   packages/<id>.html                           a package (its latest version, every version listed)
 *   packages/<id>@<version>.html                 one version, beside its package's page: no directory per package
 *                                                (a directory costs a build more than a file), and named as a
 *                                                package manager names one
 *   badges/<id>.svg, badges/<id>/<target>.svg    latest version; status of the latest version per target
 *   assets/site.css, search.js, icon.svg         shared by every page
 */

export const HOME = 'index.html'
export const NAMESPACES = 'namespaces.html'
export const PUBLISH = 'publish.html'
export const STYLESHEET = 'assets/site.css'
export const SCRIPT = 'assets/search.js'
export const ICON = 'assets/icon.svg'

export const namespacePage = (ns: string) => `namespaces/${ns}.html`
export const packagePage = (id: string) => `packages/${id}.html`
export const versionPage = (id: string, version: string) => `packages/${id}@${version}.html`
export const badgePath = (id: string) => `badges/${id}.svg`
export const targetBadgePath = (id: string, target: string) => `badges/${id}/${target}.svg`

/** A path segment as it may appear in a link: percent-encoded, but `:`, `@` and `+` kept readable. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%3A/gi, ':').replace(/%40/gi, '@').replace(/%2B/gi, '+')
}

/** Paths that need no encoding: names, versions and the site's own files are made of these. */
const PLAIN = /^[A-Za-z0-9._~:@+/-]*$/

/**
 * The relative link from the page at `from` to the file at `to` (both
 * relative to the output root). It always starts with `./` or `../`, so a
 * first segment such as `acme:calc.html` is never read as a URL scheme.
 */
export function linkTo(from: string, to: string): string {
  // A page one directory down (a package's, a namespace's), as most are: its directory, or the root, holds the target.
  const slash = from.indexOf('/')
  if (slash > 0 && from.indexOf('/', slash + 1) < 0) {
    return to.startsWith(from.slice(0, slash + 1)) ? `./${encodePath(to.slice(slash + 1))}` : `../${encodePath(to)}`
  }
  // The directories of `from` and `to` agree up to `shared` (a segment boundary).
  let shared = 0
  for (;;) {
    const end = from.indexOf('/', shared)
    if (end < 0 || to.slice(shared, end + 1) !== from.slice(shared, end + 1)) break
    shared = end + 1
  }
  let up = 0
  for (let i = from.indexOf('/', shared); i >= 0; i = from.indexOf('/', i + 1)) up++
  const rest = encodePath(to.slice(shared))
  return up === 0 ? `./${rest}` : `${'../'.repeat(up)}${rest}`
}

const encodePath = (file: string) => (PLAIN.test(file) ? file : file.split('/').map(encodeSegment).join('/'))
