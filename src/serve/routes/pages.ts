/**
 * The pages for people: the site build-api writes (`GET /` is its home page;
 * every other page is a static file), server-side search at
 * `GET /browse?q=&page=` for the Run Registry's users and readers without
 * JavaScript, and the download ranking the home page shows when the server
 * counts downloads.
 */
import { WharfError } from '../../core/errors.js'
import { HOME, renderSearchPage } from '../../site/index.js'
import { intParam, sendHtml, sendJson } from '../http.js'
import type { Registry } from '../registry.js'
import type { Route } from '../router.js'

/** Results per page of `/browse`. */
const BROWSE_PAGE_SIZE = 50
/** Versions `/api/v1/downloads` ranks. */
const TOP_DOWNLOADS = 10

export function pageRoutes(registry: Registry): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/',
      envelope: 'run',
      async handler({ req, res }) {
        if (!(await registry.statics.serve(req, res, `/${HOME}`))) throw new WharfError('NOT_FOUND', `the generated site has no ${HOME}`, { hint: 'the registry builds it on start; see the server log for why it did not' })
      },
    },
    {
      method: 'GET',
      pattern: '/browse',
      envelope: 'run',
      async handler({ res, query }) {
        const page = Math.max(1, intParam(query, 'page', 1, 1_000_000))
        const q = query.get('q') ?? ''
        const result = registry.catalog.search(q, BROWSE_PAGE_SIZE, (page - 1) * BROWSE_PAGE_SIZE)
        const hits = result.hits.map(({ pkg, latest }) => ({ name: pkg.name, version: latest.record.version, kind: latest.record.kind, description: latest.record.description, yanked: Boolean(latest.yank) }))
        sendHtml(res, renderSearchPage({ baseUrl: registry.baseUrl, registry: await registry.registryFile() }, q, hits, result.total, page))
      },
    },
    {
      method: 'GET',
      pattern: '/api/v1/downloads',
      envelope: 'run',
      async handler({ res }) {
        sendJson(res, 200, { total: registry.downloads.total(), versions: registry.downloads.top(TOP_DOWNLOADS) })
      },
    },
  ]
}
