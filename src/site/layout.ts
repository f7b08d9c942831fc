/**
 * The shell every page shares: landmarks (banner, navigation, main,
 * contentinfo), a skip link, the stylesheet, and a Content-Security-Policy
 * in a meta element, so a static host that sends no headers still keeps
 * any script but the site's own from running.
 */
import type { PageContext } from '../api/index.js'
import { html, trusted, type Html } from './html.js'
import { HOME, ICON, linkTo, NAMESPACES, PUBLISH, SCRIPT, STYLESHEET } from './paths.js'

/** Only the site's own files; no inline script or style, no plugins, no `<base>` rewriting, forms only to the site. */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"

export interface PageOptions {
  /** Where the page lives (relative to the output root): links are made relative to it. */
  path: string
  title: string
  description: string
  context: PageContext
  main: Html
  /** Which item of the navigation this page is. */
  current?: 'home' | 'namespaces' | 'publish'
  /** Loads the search script (the home page). */
  script?: boolean
}

export function renderPage(options: PageOptions): string {
  const { path, context } = options
  const to = (target: string) => linkTo(path, target)
  const nav = (target: string, label: string, key: PageOptions['current']) =>
    html`<a href="${to(target)}"${options.current === key ? html` aria-current="page"` : ''}>${label}</a>`
  const name = context.registry.name
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trusted(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${options.title}</title>
<meta name="description" content="${options.description}">
<link rel="stylesheet" href="${to(STYLESHEET)}">
<link rel="icon" href="${to(ICON)}" type="image/svg+xml">
${options.script ? html`<script src="${to(SCRIPT)}" defer></script>\n` : ''}</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="${to(HOME)}">${name}</a>
<nav aria-label="Site">${nav(HOME, 'Search', 'home')} ${nav(NAMESPACES, 'Namespaces', 'namespaces')} ${nav(PUBLISH, 'Publish', 'publish')}</nav>
${options.current === 'home' ? '' : html`<form class="quick" role="search" action="${to(HOME)}"><label for="quick-q" class="visually-hidden">Search packages</label><input id="quick-q" name="q" type="search" placeholder="Search packages"><button type="submit">Search</button></form>`}
</header>
<main id="main" tabindex="-1">
${options.main}
</main>
<footer class="bottom">
<p>${name} is a <a href="${to(PUBLISH)}">wharf</a> registry, served as static files. Machine-readable: <a href="${to('config.json')}">config.json</a> · <a href="${to('api/v1/stats')}">stats</a> · <a href="${to('api/v1/feed/head.json')}">change feed</a> · <a href="${to('snapshot.json')}">signed snapshot</a></p>
</footer>
</body>
</html>
`.text
}
