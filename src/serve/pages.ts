/** `GET /` and `GET /browse`: plain HTML pages for people, rendered from the catalog. */
import type { Registry } from './registry.js'

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
a{color:#0b5cad}code,pre{font:14px ui-monospace,monospace;background:#f3f3f3;border-radius:4px}pre{padding:.75rem;overflow:auto}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd}
form{margin:1rem 0}input[type=search]{width:70%;padding:.4rem;font-size:1rem}.muted{color:#666}
</style></head><body>
<header><a href="/"><strong>wharf</strong></a> · <a href="/browse">browse</a> · <a href="/api/v1/stats">stats</a></header>
${body}
</body></html>
`
}

export function homePage(registry: Registry): string {
  const { packages, versions } = registry.catalog.counts()
  const url = registry.baseUrl
  return layout(
    'wharf registry',
    `<h1>wharf registry</h1>
<p>${packages} packages, ${versions} versions, ${registry.downloads.total()} downloads.</p>
<form action="/browse"><input type="search" name="q" placeholder="Search packages" aria-label="Search packages"> <button>Search</button></form>
<h2>Publish a component</h2>
<pre>curl -X POST ${escape(url)}/api/v1/packages \\
  -H "Authorization: Bearer $TOKEN" \\
  -F name=acme:hello -F version=0.1.0 -F description="Hello" \\
  -F sha256=$(sha256sum hello.wasm | cut -d' ' -f1) -F component=@hello.wasm</pre>
<h2>Use it from Cargo</h2>
<pre># .cargo/config.toml
[registries.wharf]
index = "sparse+${escape(url)}/cargo/"</pre>
<h2>API</h2>
<p><code>GET /api/v1/packages/&lt;name&gt;/versions</code>, <code>GET /api/v1/packages/&lt;name&gt;/&lt;version&gt;</code>,
<code>GET /api/v1/search?q=</code>, <code>GET /api/v1/stats</code>, <code>GET /packages/&lt;name&gt;/&lt;version&gt;/artifact.wasm</code>.</p>`,
  )
}

export function browsePage(registry: Registry, query: string, page: number): string {
  const perPage = 50
  const result = registry.catalog.search(query, perPage, (page - 1) * perPage)
  const rows = result.hits
    .map(({ pkg, latest }) => {
      const r = latest.record
      return `<tr><td><a href="/api/v1/packages/${encodeURIComponent(pkg.name)}/versions">${escape(pkg.name)}</a></td><td>${escape(r.version)}${latest.yank ? ' <span class="muted">(yanked)</span>' : ''}</td><td>${escape(r.kind)}</td><td>${escape(r.description)}</td><td><a href="/packages/${encodeURIComponent(pkg.name)}/${encodeURIComponent(r.version)}/artifact.wasm">download</a></td></tr>`
    })
    .join('\n')
  const pages = Math.max(1, Math.ceil(result.total / perPage))
  const nav = [
    page > 1 ? `<a href="/browse?q=${encodeURIComponent(query)}&page=${page - 1}">previous</a>` : '',
    page < pages ? `<a href="/browse?q=${encodeURIComponent(query)}&page=${page + 1}">next</a>` : '',
  ]
    .filter(Boolean)
    .join(' · ')
  return layout(
    query ? `${query} · wharf` : 'Browse · wharf',
    `<h1>Browse</h1>
<form action="/browse"><input type="search" name="q" value="${escape(query)}" aria-label="Search packages"> <button>Search</button></form>
<p class="muted">${result.total} package${result.total === 1 ? '' : 's'}${query ? ` matching “${escape(query)}”` : ''} · page ${page} of ${pages}</p>
<table><thead><tr><th>package</th><th>latest</th><th>kind</th><th>description</th><th></th></tr></thead><tbody>
${rows || '<tr><td colspan="5" class="muted">Nothing here yet.</td></tr>'}
</tbody></table>
<p>${nav}</p>`,
  )
}
