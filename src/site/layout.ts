/**
 * The shell every page shares: landmarks (banner, navigation, main,
 * contentinfo), a skip link, the stylesheet, and a Content-Security-Policy
 * in a meta element, so a static host that sends no headers still keeps
 * any script but the site's own from running.
 */
import type { PageContext } from '../api/index.js'
import { html, joined, trusted, type Html } from './html.js'
import { HOME, ICON, linkTo, NAMESPACES, PUBLISH, SCRIPT, STYLESHEET } from './paths.js'

/** Only the site's own files; no inline script or style, no plugins, no `<base>` rewriting, forms only to the site. */
export const CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"

export interface PageOptions {
  /** Where the page lives (relative to the output root): links are made relative to it. */
  path: string
  /** The page's own title, most specific first: the registry's name follows (the home page has none but it). */
  title: readonly string[]
  description: string
  context: PageContext
  main: Html
  /** Which item of the navigation this page is. */
  current?: 'home' | 'namespaces' | 'publish'
  /** Loads the search script (the home page). */
  script?: boolean
}

interface Shell {
  head: Html
  top: Html
  /** The page from the end of its main content on. */
  end: string
}

/**
 * The parts of a page that depend only on its depth, its place in the
 * navigation and the registry: made once, not per page. A build names one
 * registry, so the cache holds one registry's shells at a time.
 */
let shells = { name: '', byKey: new Map<string | number, Shell>() }
const MAX_SHELLS = 64

function shellOf(path: string, current: PageOptions['current'], name: string): Shell {
  // Every root-level file is linked the same way from every page at the same depth.
  let depth = 0
  for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) depth++
  if (shells.name !== name) shells = { name, byKey: new Map() }
  const key = current === undefined ? depth : `${depth} ${current}`
  let shell = shells.byKey.get(key)
  if (shell) return shell
  // A stand-in page at that depth, in directories no target shares (`_` starts no name).
  const to = (target: string) => linkTo(`${'_/'.repeat(depth)}page`, target)
  const nav = (target: string, label: string, key: PageOptions['current']) => html`<a href="${to(target)}"${current === key ? html` aria-current="page"` : ''}>${label}</a>`
  shell = {
    head: html`<link rel="stylesheet" href="${to(STYLESHEET)}">
<link rel="icon" href="${to(ICON)}" type="image/svg+xml">`,
    top: html`<header class="top">
<a class="brand" href="${to(HOME)}">${name}</a>
<nav aria-label="Site">${nav(HOME, 'Search', 'home')} ${nav(NAMESPACES, 'Namespaces', 'namespaces')} ${nav(PUBLISH, 'Publish', 'publish')}</nav>
${current === 'home' ? '' : html`<form class="quick" role="search" aria-label="Quick search" action="${to(HOME)}"><label for="quick-q" class="visually-hidden">Search packages</label><input id="quick-q" name="q" type="search" placeholder="Search packages"><button type="submit">Search</button></form>`}
</header>`,
    end: html`
</main>
<footer class="bottom">
<p>${name} is a <a href="${to(PUBLISH)}">wharf</a> registry, served as static files. Machine-readable: <a href="${to('config.json')}">config.json</a> &middot; <a href="${to('api/v1/stats')}">stats</a> &middot; <a href="${to('api/v1/feed/head.json')}">change feed</a> &middot; <a href="${to('snapshot.json')}">signed snapshot</a></p>
</footer>
</body>
</html>
`.text,
  }
  if (shells.byKey.size >= MAX_SHELLS) shells.byKey.clear()
  shells.byKey.set(key, shell)
  return shell
}

export function renderPage(options: PageOptions): string {
  const [start, end] = pageAround(options)
  return `${start}${options.main.text}${end}`
}

/** The text of a page before its main content, and after it (the same for every page of a shell). */
export function pageAround(options: Omit<PageOptions, 'main'>): [string, string] {
  const shell = shellOf(options.path, options.current, options.context.registry.name)
  const start = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${trusted(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${joined([...options.title, options.context.registry.name], ' &middot; ')}</title>
<meta name="description" content="${options.description}">
${shell.head}
${options.script ? html`<script src="${linkTo(options.path, SCRIPT)}" defer></script>\n` : ''}</head>
<body>
<a class="skip" href="#main">Skip to content</a>
${shell.top}
<main id="main" tabindex="-1">
`.text
  return [start, shell.end]
}
