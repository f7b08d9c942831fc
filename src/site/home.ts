/**
 * The pages that are not about one package: home (search, stats, newest
 * versions), the list of namespaces, one page per namespace, and how to
 * publish. Home is an aggregate, rewritten by every build; it carries no
 * search data of its own (the script loads the static search index on first
 * use), so it stays small at any registry size.
 */
import type { AggregatePagesInput, NamespacePagesInput, PageContext, SiteFile } from '../api/index.js'
import { formatDate, plural } from './format.js'
import { html, type Html } from './html.js'
import { renderPage } from './layout.js'
import { HOME, linkTo, NAMESPACES, namespacePage, packagePage, PUBLISH, versionPage } from './paths.js'

function homeHtml(input: AggregatePagesInput): string {
  const { context, counts } = input
  const to = (target: string) => linkTo(HOME, target)
  const newest = input.newest.map(
    (e) => html`<li><a href="${to(versionPage(e.name, e.version))}">${e.name}@${e.version}</a> <time datetime="${e.time}">${formatDate(e.time)}</time></li>`,
  )
  const main = html`<h1>${context.registry.name}</h1>
${context.registry.description ? html`<p class="lede">${context.registry.description}</p>` : ''}
<p class="lede">${plural(counts.packages, 'package')}, ${plural(counts.versions, 'version')} in ${plural(counts.namespaces, 'namespace')}.</p>
<section aria-labelledby="search-title">
<h2 id="search-title">Search</h2>
<form id="search" role="search" action="${to(HOME)}">
<label for="q">Search packages by name, description, keyword or WIT interface</label>
<div class="searchbox"><input id="q" name="q" type="search" autocomplete="off" spellcheck="false" aria-describedby="q-hint" aria-controls="results"><button type="submit">Search</button></div>
<p id="q-hint" class="muted">For example <code>calc</code>, or <code>wasi:http/incoming-handler</code> to find what exports or imports that interface.</p>
</form>
<noscript><p>Search runs in the browser and needs JavaScript. Every package is also listed by <a href="${to(NAMESPACES)}">namespace</a>.</p></noscript>
<p id="search-status" role="status" aria-live="polite"></p>
<ol id="results" class="results"></ol>
</section>
<div class="columns">
<section aria-labelledby="newest-title">
<h2 id="newest-title">Newest versions</h2>
${newest.length ? html`<ol class="plain">${newest}</ol>` : html`<p>Nothing published yet: see <a href="${to(PUBLISH)}">how to publish</a>.</p>`}
</section>
<section aria-labelledby="stats-title">
<h2 id="stats-title">Registry</h2>
<dl class="facts">
<dt>Packages</dt><dd>${counts.packages.toLocaleString('en')}</dd>
<dt>Versions</dt><dd>${counts.versions.toLocaleString('en')}</dd>
<dt>Yanked</dt><dd>${counts.yanked.toLocaleString('en')}</dd>
<dt>Namespaces</dt><dd><a href="${to(NAMESPACES)}">${counts.namespaces.toLocaleString('en')}</a></dd>
<dt>Crates</dt><dd>${counts.crates.toLocaleString('en')}</dd>
<dt>Downloads</dt><dd id="downloads">not counted by a static host</dd>
<dt>Built from</dt><dd class="mono">${input.head.slice(0, 12)}</dd>
</dl>
<h3 id="popular-title">Most downloaded</h3>
<p id="popular-note" class="muted">A static host counts no downloads, so there is no ranking here; a registry run with <code>wharf serve</code> counts them and lists the most downloaded versions.</p>
<ol id="popular" class="plain" aria-labelledby="popular-title"></ol>
</section>
</div>
<section aria-labelledby="use-title">
<h2 id="use-title">Use this registry</h2>
<pre class="code" role="region" aria-label="Client commands" tabindex="0"><code>npx wharf install &lt;namespace&gt;:&lt;name&gt; --registry ${context.baseUrl}

# .cargo/config.toml
[registries.wharf]
index = "sparse+${context.baseUrl}/cargo/"</code></pre>
</section>`
  return renderPage({ path: HOME, title: [], description: `${context.registry.name}: a registry of WebAssembly components and Rust crates`, context, main, current: 'home', script: true })
}

function namespacesHtml(context: PageContext, namespaces: string[]): string {
  const to = (target: string) => linkTo(NAMESPACES, target)
  const main = html`<h1>Namespaces</h1>
<p class="lede">${plural(namespaces.length, 'namespace')}. Each is owned by the people it lists, who alone publish in it.</p>
${namespaces.length ? html`<ul class="columns-list">${namespaces.map((ns) => html`<li><a href="${to(namespacePage(ns))}">${ns}</a></li>`)}</ul>` : html`<p>None yet.</p>`}`
  return renderPage({ path: NAMESPACES, title: ['Namespaces'], description: `Every namespace of ${context.registry.name}`, context, main, current: 'namespaces' })
}

function publishHtml(context: PageContext): string {
  const base = context.baseUrl
  const block = (label: string, text: string) => html`<pre class="code" role="region" aria-label="${label}" tabindex="0"><code>${text}</code></pre>`
  const main = html`<h1>How to publish</h1>
<p class="lede">A version is one signed record added to the index, a git repo. The registry's gate checks it (names, ownership, signature, artifact hash, wasm validity, dependencies), builds and tests it on native and wasm32 targets, and then it appears here, in the JSON API and in the Cargo index.</p>
<section aria-labelledby="pr-title">
<h2 id="pr-title">With a pull request (a registry on GitHub)</h2>
<ol>
<li>Claim a namespace once: make a key pair and propose the namespace file with you as owner.
${block('Claim a namespace', 'npx wharf keygen --out me.key            # me.key (private, 0600) and me.key.pub\nnpx wharf namespace add acme --owner YOUR_LOGIN --key me.key.pub --index .')}</li>
<li>Publish from your component's or crate's repository: the record is signed with your key and the artifact uploaded as a release asset.
${block('Publish a version', 'npx wharf publish calc.wasm --name acme:calc --version 0.1.0 --key me.key \\\n    --description "A calculator" --license MIT --github OWNER/INDEX-REPO')}</li>
<li>The pull request runs <code>wharf check</code> and the compatibility matrix; its comment lists every finding with how to fix it. Once it merges, the site and API are rebuilt.</li>
</ol>
</section>
<section aria-labelledby="local-title">
<h2 id="local-title">On one machine (a local index)</h2>
${block('Local flow', 'npx wharf init my-index --maintainer admin\nnpx wharf keygen --out alice.key\nnpx wharf namespace add acme --owner alice --key alice.key.pub --index my-index\nnpx wharf merge --branch namespace/acme --index my-index\nnpx wharf publish calc.wasm --name acme:calc --version 0.1.0 --key alice.key \\\n    --author alice --description "A calculator" --license MIT --index my-index\nnpx wharf merge --branch publish/acme/calc/0.1.0 --index my-index\nnpx wharf build-api --index my-index --out public')}
<p>A Rust crate goes the same way with <code>npx wharf publish --crate DIR --key alice.key --index my-index</code>.</p>
</section>
<section aria-labelledby="serve-title">
<h2 id="serve-title">To a running registry (<code>wharf serve</code>)</h2>
${block('Publish over HTTP', `npx wharf publish calc.wasm --name acme:calc --version 0.1.0 --registry ${base} --token $TOKEN\n\n# or, as the Run 2.0 client does:\ncurl -X POST ${base}/api/v1/packages -H "Authorization: Bearer $TOKEN" \\\n  -F name=acme:calc -F version=0.1.0 -F description="A calculator" \\\n  -F sha256=$(sha256sum calc.wasm | cut -d' ' -f1) -F component=@calc.wasm\n\n# a crate, with cargo:\ncargo publish --registry wharf`)}
</section>
<section aria-labelledby="rules-title">
<h2 id="rules-title">What the gate asks</h2>
<ul>
<li>Names are lower case: <code>&lt;namespace&gt;:&lt;name&gt;</code>, segments of a&ndash;z, 0&ndash;9 and single hyphens; versions are SemVer 2.0 and never change once published (yank instead).</li>
<li>The record is signed by a key its namespace held before the submission.</li>
<li>Every artifact is fetched and must match its SHA-256 and size, and be valid wasm (a component when it says so).</li>
<li>Dependencies name packages that exist, with valid ranges.</li>
</ul>
</section>`
  return renderPage({ path: PUBLISH, title: ['How to publish'], description: `How to publish a component or crate to ${context.registry.name}`, context, main, current: 'publish' })
}

/** Home, the list of namespaces and the page on publishing. */
export function renderAggregatePages(input: AggregatePagesInput): SiteFile[] {
  return [
    { path: HOME, bytes: homeHtml(input) },
    { path: NAMESPACES, bytes: namespacesHtml(input.context, input.namespaces) },
    { path: PUBLISH, bytes: publishHtml(input.context) },
  ]
}

/** One namespace: who owns it, its keys, its packages. */
export function renderNamespace(input: NamespacePagesInput): SiteFile[] {
  const { namespace: file, context } = input
  const path = namespacePage(file.namespace)
  const to = (target: string) => linkTo(path, target)
  const owners: Html[] = file.owners.map((o) =>
    'team' in o ? html`<li>${o.team} <span class="muted">(team)</span></li>` : html`<li>${o.login}${o.id !== undefined ? html` <span class="muted">(GitHub id ${o.id})</span>` : ''}</li>`,
  )
  const keys = file.keys.map(
    (k) =>
      html`<tr><td class="mono">${k.id}</td><td>${k.algorithm}</td><td><time datetime="${k.added}">${formatDate(k.added)}</time></td><td>${k.revoked ? html`revoked <time datetime="${k.revoked}">${formatDate(k.revoked)}</time>` : 'in use'}</td></tr>`,
  )
  const main = html`<h1>${file.namespace}</h1>
${file.description ? html`<p class="lede">${file.description}</p>` : ''}
<dl class="facts">
<dt>Created</dt><dd><time datetime="${file.created_at}">${formatDate(file.created_at)}</time></dd>
${file.authority ? html`<dt>Authority</dt><dd>${file.authority}</dd>` : ''}
<dt>Files</dt><dd><a href="${to(`index/namespaces/${file.namespace}.json`)}">namespace file</a> &middot; <a href="${to(`api/v1/namespaces/${file.namespace}`)}">API document</a></dd>
</dl>
<section aria-labelledby="packages-title"><h2 id="packages-title">Packages (${input.packages.length})</h2>
${input.packages.length ? html`<ul class="columns-list">${input.packages.map((id) => html`<li><a href="${to(packagePage(id))}">${id}</a></li>`)}</ul>` : html`<p>None yet.</p>`}
</section>
<section aria-labelledby="owners-title"><h2 id="owners-title">Owners</h2>
${owners.length ? html`<ul>${owners}</ul>` : html`<p>None listed.</p>`}
</section>
<section aria-labelledby="keys-title"><h2 id="keys-title">Signing keys</h2>
<div class="scroll" role="region" aria-label="Signing keys" tabindex="0"><table><thead><tr><th scope="col">Key id</th><th scope="col">Algorithm</th><th scope="col">Added</th><th scope="col">State</th></tr></thead><tbody>${keys}</tbody></table></div>
</section>`
  return [{ path, bytes: renderPage({ path, title: [file.namespace], description: `Packages, owners and keys of the namespace ${file.namespace}`, context, main }) }]
}
