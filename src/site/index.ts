/**
 * The registry site: static HTML pages, a stylesheet, a small search script
 * and README badges, written by `wharf build-api` beside the API and served
 * the same by any static host and by `wharf serve`. The renderer is pure
 * (documents in, files out) and keeps no state between calls but a cache of
 * drawn badges, so a build may call it from any thread.
 */
import fs from 'node:fs'
import type { AggregatePagesInput, PageRenderer, SiteFile } from '../api/index.js'
import { renderAggregatePages, renderNamespace } from './home.js'
import { renderDependents, renderPackage } from './package.js'
import { ICON, SCRIPT, STYLESHEET } from './paths.js'

export { CONTENT_SECURITY_POLICY } from './layout.js'
export { renderSearchPage, type SearchHit } from './search-page.js'
export { badgePath, HOME, namespacePage, packagePage, targetBadgePath, versionPage } from './paths.js'
export { BADGE_TARGETS } from './badges.js'

/**
 * Bump when a page's shape changes: an output whose pages are of another
 * format is rebuilt in full rather than left with pages of two versions.
 */
export const SITE_FORMAT = 'wharf-site/4'

const asset = (name: string) => fs.readFileSync(new URL(`./assets/${name}`, import.meta.url))
const ASSETS: SiteFile[] = [
  { path: STYLESHEET, bytes: asset('site.css') },
  { path: SCRIPT, bytes: asset('search.js') },
  { path: ICON, bytes: asset('icon.svg') },
]

/**
 * This module as a build's worker threads import it: the source file when
 * run from TypeScript, else the `site.js` entry beside the bundled code:
 * scripts/build.mjs writes it beside the CLI's chunks (a chunk renames its
 * exports), scripts/build-action.mjs beside the Action's index.js.
 */
const MODULE_URL = import.meta.url.endsWith('.ts') ? import.meta.url : new URL('./site.js', import.meta.url).href

/** The page renderer `wharf build-api` and `wharf serve` pass to the API build. */
export const siteRenderer: PageRenderer = {
  format: SITE_FORMAT,
  module: { url: MODULE_URL, name: 'siteRenderer' },
  package: renderPackage,
  dependents: renderDependents,
  namespace: renderNamespace,
  aggregates: (input: AggregatePagesInput) => [...renderAggregatePages(input), ...ASSETS],
}
