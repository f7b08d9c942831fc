/**
 * Search results rendered on a server (`wharf serve`'s `/browse?q=`, the Run
 * Registry's page), in the site's own shell, for readers without JavaScript
 * and for links that predate the static site.
 */
import type { PageContext } from '../api/index.js'
import { plural } from './format.js'
import { html, trusted } from './html.js'
import { renderPage } from './layout.js'
import { linkTo, packagePage, versionPage } from './paths.js'

export interface SearchHit {
  name: string
  version: string
  kind: string
  description: string
  yanked: boolean
}

/** Where the page is served from: the root, so its relative links reach the generated pages. */
const BROWSE = 'browse'
const PER_PAGE = 50

export function renderSearchPage(context: PageContext, query: string, hits: SearchHit[], total: number, page: number): string {
  const to = (target: string) => linkTo(BROWSE, target)
  const pages = Math.max(1, Math.ceil(total / PER_PAGE))
  const nav = (p: number, label: string) => html`<a href="${`./browse?q=${encodeURIComponent(query)}&page=${p}`}">${label}</a>`
  const main = html`<h1>Search</h1>
<form id="browse" role="search" aria-label="Search packages" action="./browse">
<label for="browse-q">Search packages</label>
<div class="searchbox"><input id="browse-q" name="q" type="search" value="${query}"><button type="submit">Search</button></div>
</form>
<p role="status">${plural(total, 'package')}${query ? html` match &ldquo;${query}&rdquo;` : ''} &middot; page ${page} of ${pages}</p>
<ol class="results">${hits.map(
    (h) =>
      html`<li><a class="name" href="${to(packagePage(h.name))}">${h.name}</a> <span class="meta"><a href="${to(versionPage(h.name, h.version))}">v${h.version}</a>${h.yanked ? ' (yanked)' : ''} &middot; ${h.kind}</span>${h.description ? html`<p>${h.description}</p>` : ''}</li>`,
  )}</ol>
<p>${page > 1 ? nav(page - 1, 'Previous page') : ''}${page > 1 && page < pages ? trusted(' &middot; ') : ''}${page < pages ? nav(page + 1, 'Next page') : ''}</p>`
  return renderPage({ path: BROWSE, title: query ? [query, 'Search'] : ['Search'], description: `Packages of ${context.registry.name} matching a search`, context, main })
}
