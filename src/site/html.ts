/**
 * Markup that cannot carry a publisher's bytes into a page unescaped: the
 * `html` template escapes every value it is given unless it is markup the
 * template itself made, so a description holding `<script>` or a version in
 * an attribute stays text. Attributes are always written in double quotes.
 */

/** Markup made by `html` (or a constant of this room): the only thing written unescaped. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text safe in an element and in a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return SPECIAL.test(text) ? text.replace(SPECIALS, (c) => ESCAPES[c]!) : text
}
const SPECIAL = /[&<>"']/
const SPECIALS = /[&<>"']/g

type Value = Html | string | number | boolean | null | undefined | readonly Value[]

/** Strings and markup first: they are nearly every value a page holds. */
function render(value: Value): string {
  if (typeof value === 'string') return escapeHtml(value)
  if (value instanceof Html) return value.text
  // A number's text holds no special character.
  if (typeof value === 'number') return String(value)
  if (Array.isArray(value)) {
    let out = ''
    for (const item of value as readonly Value[]) out += render(item)
    return out
  }
  return ''
}

/** Tagged template: `html\`<p>${text}</p>\`` escapes `text`; nested `html` values, arrays of them, and nothing for null/undefined/booleans. */
export function html(strings: TemplateStringsArray, ...values: Value[]): Html {
  let out = strings[0]!
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!
  return new Html(out)
}

/** A constant of this room (a stylesheet, an inline SVG made from numbers): never a publisher's text. */
export function trusted(text: string): Html {
  return new Html(text)
}

/** `parts`, each escaped, with the markup `separator` (an entity such as `&middot;`) between them. */
export function joined(parts: readonly string[], separator: string): Html {
  return new Html(parts.map(escapeHtml).join(separator))
}

/**
 * A URL a page may link to: http or https only (a `javascript:` or `data:`
 * repository URL stays text), without credentials; undefined otherwise.
 */
export function safeUrl(url: string | undefined): string | undefined {
  if (!url) return undefined
  if (isCanonicalWebUrl(url)) return url
  // Every version of a package names the same repository: parsed once, not once per page.
  if (checked.has(url)) return checked.get(url)
  if (checked.size >= CHECKED_MAX) checked.clear()
  const safe = checkUrl(url)
  checked.set(url, safe)
  return safe
}
const checked = new Map<string, string | undefined>()
const CHECKED_MAX = 1024

/**
 * An http(s) URL the WHATWG parser leaves exactly as it is: a lower-case
 * host name whose last label starts with a letter (so no IP address to
 * rewrite, no port, no user), no punycode label to decode, and a path of
 * plain characters without `.` or `..` segments, query or fragment. Most
 * artifact and repository URLs are so; they skip the parser, which would
 * give them back unchanged (the property test in test/site holds it to that).
 */
export function isCanonicalWebUrl(url: string): boolean {
  return CANONICAL_WEB_URL.test(url) && !DOT_SEGMENT.test(url) && !url.includes('xn--')
}
const CANONICAL_WEB_URL = /^https?:\/\/(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*(?:\/[A-Za-z0-9._~!$&()*+,;=:@-]*)+$/
const DOT_SEGMENT = /\/\.\.?(?:\/|$)/

function checkUrl(url: string): string | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  if ((parsed.protocol !== 'https:' && parsed.protocol !== 'http:') || parsed.username || parsed.password) return undefined
  return parsed.href
}

/**
 * A link to an outside URL when it is safe, else the URL as plain text. The
 * link reads as where it goes (the parsed URL: `github.com%2Eevil.example`
 * reads `github.com.evil.example`, a look-alike host its punycode), not as
 * the publisher spelled it.
 */
export function externalLink(url: string | undefined, text?: string): Html {
  const safe = safeUrl(url)
  if (!safe) return html`<span class="mono">${url ?? ''}</span>`
  return html`<a href="${safe}" rel="nofollow noopener">${text ?? safe}</a>`
}

/** Shortens text a publisher or a build controls, so one field cannot make a page huge. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}
