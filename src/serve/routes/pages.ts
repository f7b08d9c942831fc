/** The pages for people: `GET /` and `GET /browse?q=&page=`. */
import { intParam, sendHtml } from '../http.js'
import { browsePage, homePage } from '../pages.js'
import type { Registry } from '../registry.js'
import type { Route } from '../router.js'

export function pageRoutes(registry: Registry): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/',
      envelope: 'run',
      async handler({ res }) {
        sendHtml(res, homePage(registry))
      },
    },
    {
      method: 'GET',
      pattern: '/browse',
      envelope: 'run',
      async handler({ res, query }) {
        sendHtml(res, browsePage(registry, query.get('q') ?? '', Math.max(1, intParam(query, 'page', 1, 1_000_000))))
      },
    },
  ]
}
