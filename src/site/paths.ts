/**
 * Where each page lives in the output, and how one page links to another.
 * Links are relative, so the site works under any path prefix (a project's
 * GitHub Pages, a subdirectory of a CDN) and from a copy on disk.
 *
 *   index.html, namespaces.html, publish.html    home and the pages that list or explain
 *   namespaces/<ns>.html                         a namespace
 *   packages/<id>.html                           a package (its latest version, every version listed)
 *   packages/<id>/<version>.html                 one version (a name segment starts with a letter, a version with a digit)
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
export const versionPage = (id: string, version: string) => `packages/${id}/${version}.html`
export const badgePath = (id: string) => `badges/${id}.svg`
export const targetBadgePath = (id: string, target: string) => `badges/${id}/${target}.svg`

/** A path segment as it may appear in a link: percent-encoded, but `:`, `@` and `+` kept readable. */
function encodeSegment(segment: string): string {
  return encodeURIComponent(segment).replace(/%3A/gi, ':').replace(/%40/gi, '@').replace(/%2B/gi, '+')
}

/**
 * The relative link from the page at `from` to the file at `to` (both
 * relative to the output root). It always starts with `./` or `../`, so a
 * first segment such as `acme:calc.html` is never read as a URL scheme.
 */
export function linkTo(from: string, to: string): string {
  const fromDir = from.split('/').slice(0, -1)
  const target = to.split('/')
  let common = 0
  while (common < fromDir.length && common < target.length - 1 && fromDir[common] === target[common]) common++
  const up = fromDir.length - common
  const rest = target.slice(common).map(encodeSegment).join('/')
  return up === 0 ? `./${rest}` : `${'../'.repeat(up)}${rest}`
}
