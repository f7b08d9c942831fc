/**
 * The renderer without a browser: escaping and URL rules as tables, a
 * report that does not follow its schema, badges, and every page of a real
 * build checked at once: the Content-Security-Policy meta, no script but the
 * site's own, no unsafe link, and every relative link landing on a file the
 * build wrote.
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { CONTENT_SECURITY_POLICY, renderSearchPage, siteRenderer } from '../../src/site/index.js'
import type { RegistryFile } from '../../src/core/types.js'
import { targetBadge, versionBadge } from '../../src/site/badges.js'
import { escapeHtml, externalLink, html, isCanonicalWebUrl, safeUrl } from '../../src/site/html.js'
import { linkTo } from '../../src/site/paths.js'
import { readMatrix } from '../../src/site/report.js'
import { readTree } from '../fixtures/api/tree.js'
import { createSiteIndex, HOSTILE, matrixReport } from './fixture.js'

describe('escaping', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['" onmouseover="x', '&quot; onmouseover=&quot;x'],
    ["' autofocus onfocus='x", '&#39; autofocus onfocus=&#39;x'],
    ['a & b', 'a &amp; b'],
    ['plain', 'plain'],
  ])('escapes %j', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected)
    expect(html`<p title="${input}">${input}</p>`.text).toBe(`<p title="${expected}">${expected}</p>`)
  })

  it('writes nested markup as is, arrays joined, and nothing for null, undefined and booleans', () => {
    const items = ['<a>', 'b'].map((x) => html`<li>${x}</li>`)
    expect(html`<ul>${items}</ul>${null}${undefined}${false}${true}${0}`.text).toBe('<ul><li>&lt;a&gt;</li><li>b</li></ul>0')
  })

  it.each([
    ['https://example.com/a?b=c', 'https://example.com/a?b=c'],
    ['http://127.0.0.1:8080/x', 'http://127.0.0.1:8080/x'],
    ['https://evil.example/"><script>', 'https://evil.example/%22%3E%3Cscript%3E'],
    ['javascript:alert(1)', undefined],
    ['JAVASCRIPT:alert(1)', undefined],
    [' javascript:alert(1)', undefined],
    ['data:text/html,<script>alert(1)</script>', undefined],
    ['vbscript:msgbox', undefined],
    ['https://user:pass@example.com/', undefined],
    ['//example.com/x', undefined],
    ['not a url', undefined],
    [undefined, undefined],
  ])('links %j as %j', (input, expected) => {
    expect(safeUrl(input)).toBe(expected)
  })

  it.each([
    ['https://github.com%2Eevil.example/acme/calc', 'https://github.com.evil.example/acme/calc'],
    ['https://\u0430pple.com/acme/calc', 'https://xn--pple-43d.com/acme/calc'],
    ['https://example.com/ns0/pkg0', 'https://example.com/ns0/pkg0'],
  ])('a link to %j reads as where it goes', (input, shown) => {
    expect(externalLink(input).text).toBe(`<a href="${shown}" rel="nofollow noopener">${shown}</a>`)
  })
})

describe('URLs that skip the parser', () => {
  it.each([
    ['https://example.com/ns0/pkg0', true],
    ['http://github.com/acme/calc/releases/download/v1.0.0/calc.wasm', true],
    ['https://EXAMPLE.com/x', false],
    ['https://example.com', false],
    ['https://example.com:443/x', false],
    ['https://user@example.com/x', false],
    ['https://127.0.0.1/x', false],
    ['https://example.0x7f/x', false],
    ['https://xn--n3h.example/x', false],
    ['https://example.com/a/./b', false],
    ['https://example.com/a/..', false],
    ['https://example.com/%41', false],
    ['https://example.com/a?b', false],
    ['https://example.com/a\\b', false],
  ])('%s: %s', (url, canonical) => {
    expect(isCanonicalWebUrl(url)).toBe(canonical)
    if (canonical) expect(safeUrl(url)).toBe(url)
  })

  it('are exactly what the WHATWG parser gives back: http(s), no user, no change', () => {
    // Mostly URLs of the shape the fast path takes, with a few bytes that would make the parser change them.
    const chars = (set: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...set), maxLength })
    const often = <T,>(usual: fc.Arbitrary<T>, odd: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 5 }, { arbitrary: odd, weight: 1 })
    const label = often(chars('abcxyz09-', 6), fc.oneof(chars('abcXYZ09-', 6), chars('abc09-', 4).map((l) => `xn--${l}`), fc.constantFrom('1', '0x7f', '')))
    const segment = often(chars('aZ09._~-!$&()*+,;=:@', 6), chars('aZ09.%\\/?#\'" <>`{}|^[]é', 4))
    const url = fc
      .tuple(often(fc.constantFrom('http://', 'https://'), fc.constantFrom('HTTP://', 'https:/', 'https:', 'ftp://', 'javascript:')), fc.array(label, { minLength: 1, maxLength: 4 }), often(fc.constant(''), fc.constantFrom(':80', ':', '@', '.')), fc.array(segment, { maxLength: 4 }))
      .map(([scheme, labels, port, segments]) => `${scheme}${labels.join('.')}${port}${segments.map((s) => `/${s}`).join('')}`)
    fc.assert(
      fc.property(fc.oneof(url, fc.string()), (u) => {
        if (!isCanonicalWebUrl(u)) return
        const parsed = new URL(u)
        expect(parsed.href).toBe(u)
        expect(['http:', 'https:']).toContain(parsed.protocol)
        expect(parsed.username + parsed.password).toBe('')
        expect(safeUrl(u)).toBe(u)
      }),
      { numRuns: 20_000 },
    )
  })
})

describe('links between pages', () => {
  it.each([
    ['index.html', 'packages/acme:calc.html', './packages/acme:calc.html'],
    ['packages/acme:calc.html', 'index.html', '../index.html'],
    ['packages/acme:calc.html', 'packages/acme:calc@1.0.0.html', './acme:calc@1.0.0.html'],
    ['packages/acme:calc@1.0.0.html', 'packages/acme:calc/fmt.html', './acme:calc/fmt.html'],
    ['packages/acme:calc/fmt@0.1.0.html', 'badges/acme:calc/fmt.svg', '../../badges/acme:calc/fmt.svg'],
    ['packages/acme:calc/fmt@0.1.0.html', 'packages/acme:calc.html', '../acme:calc.html'],
    ['packages/acme:calc.html', 'packages/acme:calc@1.0.0+build.5.html', './acme:calc@1.0.0+build.5.html'],
    ['browse', 'packages/acme:a b.html', './packages/acme:a%20b.html'],
  ])('from %s to %s is %s', (from, to, expected) => {
    expect(linkTo(from, to)).toBe(expected)
  })

  it('lands where it points from any page, as a browser resolves it', () => {
    const segment = fc.string({ unit: fc.constantFrom(...'ab09:@+-._ %#?\'"é'), minLength: 1, maxLength: 5 }).filter((s) => s !== '.' && s !== '..')
    const file = fc.array(segment, { minLength: 1, maxLength: 4 }).map((segments) => segments.join('/'))
    fc.assert(
      fc.property(file, file, (from, to) => {
        const link = linkTo(from, to)
        expect(link).toMatch(/^\.\.?\//)
        const page = new URL(`https://r.example/${from.split('/').map(encodeURIComponent).join('/')}`)
        const landed = new URL(link, page).pathname.slice(1).split('/').map(decodeURIComponent)
        expect(landed).toEqual(to.split('/'))
      }),
      { numRuns: 5_000 },
    )
  })

  it('never starts with a segment a browser would read as a URL scheme', () => {
    const link = linkTo('packages/acme:calc.html', 'packages/acme:calc-core.html')
    expect(link).toBe('./acme:calc-core.html')
    expect(new URL(link, 'https://r.example/packages/acme:calc.html').href).toBe('https://r.example/packages/acme:calc-core.html')
  })
})

describe('reports', () => {
  const blob = (value: unknown, file = 'index/reports/acme/calc/1.0.0/report.json') => ({ path: file, oid: '0'.repeat(40), bytes: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)) })

  it('reads a wharf test report: targets, verdicts, score, blame, WIT world', () => {
    const matrix = readMatrix([blob(matrixReport({ score: 84, speed: 1.5 }))])!
    expect(matrix.targets.map((t) => `${t.target}:${t.status}`)).toEqual(['native:pass', 'wasm32-wasip1:pass', 'wasm32-wasip2:pass', 'wasm32-unknown-unknown:fail'])
    expect(matrix).toMatchObject({ score: { total: 84 }, speed: { value: 1.5 }, gc: { level: 'G2' }, dual: { value: true } })
    expect(matrix.targets[3]!.blame[0]).toMatchObject({ crate: 'getrandom', hint: 'enable the "js" feature of getrandom' })
    expect(matrix.wit).toContain('export wasi:http/incoming-handler@0.2.0;')
  })

  it('survives a report that breaks its schema, keeping what it can read', () => {
    const broken = { schema: 'wharf:report/v1', targets: [null, 7, { target: { x: 1 }, status: 42, blame: 'no', metrics: { size: { raw: -1 } } }], verdicts: { speed_ratio: { value: 'fast' } }, score: { total: 1e9 } }
    const matrix = readMatrix([blob('not json'), blob({ score: 3 }, 'index/reports/acme/calc/1.0.0/summary.json'), blob(broken)])!
    expect(matrix.targets).toEqual([expect.objectContaining({ target: '?', status: 'unknown', blame: [], size: undefined })])
    expect(matrix.speed).toBeUndefined()
    expect(matrix.score).toBeUndefined()
    expect(readMatrix([blob({ score: 3 })])).toBeUndefined()
  })

  it('clips what a crate controls, so one error line cannot make a page huge', () => {
    const long = matrixReport({ score: 1, speed: null, blameError: 'x'.repeat(100_000) })
    const matrix = readMatrix([blob(long)])!
    expect(matrix.targets[3]!.blame[0]!.error.length).toBeLessThanOrEqual(400)
  })
})

describe('badges', () => {
  it('say the latest version, a pre-release, or that every version is yanked', () => {
    const blue = /fill="#007ec6"/
    expect(versionBadge('wharf', '1.2.0', false)).toMatch(/aria-label="wharf: v1\.2\.0"/)
    expect(versionBadge('wharf', '1.2.0', false)).toMatch(blue)
    expect(versionBadge('wharf', '2.0.0-rc.1', true)).not.toMatch(blue)
    expect(versionBadge('wharf', null, false)).toMatch(/aria-label="wharf: yanked"/)
    expect(versionBadge('<b>"reg"</b>', '1.0.0', false)).toContain('&lt;b&gt;&quot;reg&quot;&lt;/b&gt;')
  })

  it.each([
    ['pass', 'passing'],
    ['fail', 'failing'],
    ['unavailable', 'unavailable'],
    [undefined, 'untested'],
    ['<x>', '&lt;x&gt;'],
  ])('for a target with status %j say %j', (status, message) => {
    expect(targetBadge('wasm32-wasip2', status)).toContain(`aria-label="wasm32-wasip2: ${message}"`)
  })
})

describe('every page of a build', () => {
  let out: string
  let files: Map<string, Buffer>

  beforeAll(async () => {
    const site = await createSiteIndex()
    out = path.join(site.work, 'public')
    await buildApi({ repo: site.idx.repo, out, baseUrl: 'https://registry.example', pages: siteRenderer })
    files = readTree(out)
  })

  const pages = () => [...files].filter(([f]) => f.endsWith('.html')).map(([f, b]) => [f, b.toString('utf8')] as const)

  it('names every search landmark, and no two of a page alike (the server\'s /browse page too)', () => {
    const registry = JSON.parse(files.get('index/registry.json')!.toString('utf8')) as RegistryFile
    const browse = renderSearchPage({ baseUrl: 'https://registry.example', registry }, 'calc', [], 0, 1)
    for (const [file, text] of [...pages(), ['browse', browse] as const]) {
      const forms = [...text.matchAll(/<form\b[^>]*role="search"[^>]*>/g)].map((m) => /aria-label="([^"]+)"/.exec(m[0])?.[1])
      if (forms.length < 2) continue
      expect(forms.every(Boolean), file).toBe(true)
      expect(new Set(forms).size, file).toBe(forms.length)
    }
    expect([...browse.matchAll(/role="search"/g)]).toHaveLength(2)
  })

  it('writes the home page, a page per package, version and namespace, and badges', () => {
    const names = [...files.keys()].filter((f) => /\.(html|svg|css|js)$/.test(f) && !f.startsWith('index/')).sort()
    expect(names).toEqual(expect.arrayContaining(['index.html', 'namespaces.html', 'publish.html', 'namespaces/acme.html', 'namespaces/beta.html', 'assets/site.css', 'assets/search.js']))
    expect(names).toEqual(expect.arrayContaining(['packages/acme:calc.html', 'packages/acme:calc@1.0.0.html', 'packages/acme:calc@1.1.0.html', 'packages/acme:calc@1.2.0.html', 'packages/acme:calc/fmt.html', 'packages/acme:calc/fmt@0.1.0.html']))
    expect(names).toEqual(expect.arrayContaining(['badges/acme:calc.svg', 'badges/acme:calc/wasm32-wasip2.svg', 'badges/acme:calc/native.svg', 'badges/acme:calc/fmt.svg']))
    // per-target badges once the registry has tested a version: acme:calc/fmt has no report yet
    expect(names.filter((f) => f.startsWith('badges/acme:calc/fmt/'))).toEqual([])
    // the snapshot covers the pages like every other file: a package's in the leaves, those every build rewrites in snapshot.json itself
    const leaves = [...files].filter(([f]) => /^snapshot\/[0-9a-f]{2}\/[0-9a-f]\.json$/.test(f)).flatMap(([, b]) => Object.keys((JSON.parse(b.toString()) as { files: object }).files))
    expect(leaves).toEqual(expect.arrayContaining(['packages/acme:calc.html', 'packages/acme:calc@1.0.0.html', 'badges/acme:calc.svg', 'namespaces/acme.html']))
    const named = Object.keys((JSON.parse(files.get('snapshot.json')!.toString()) as { files: object }).files)
    expect(named).toEqual(expect.arrayContaining(['index.html', 'namespaces.html', 'publish.html', 'assets/site.css', 'assets/search.js', 'assets/icon.svg']))
    expect(leaves.filter((f) => named.includes(f))).toEqual([])
  })

  it('carries the Content-Security-Policy, and no script but the site’s own on home', () => {
    for (const [file, text] of pages()) {
      expect(text, file).toContain(`<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`)
      const scripts = [...text.matchAll(/<script\b[^>]*>/gi)].map((m) => m[0])
      expect(scripts, file).toEqual(file === 'index.html' ? ['<script src="./assets/search.js" defer>'] : [])
      // Every tag is well formed (double-quoted values hold no quote), and none has an event handler or a style.
      const tags = [...text.matchAll(/<[a-z][a-z0-9]*((?:\s+[a-z][a-z0-9-]*(?:="[^"]*")?)*)\s*\/?>/gi)]
      expect(tags.length, file).toBe([...text.matchAll(/<[a-z]/gi)].length)
      const attributes = tags.flatMap((t) => [...t[1]!.matchAll(/\s+([a-z][a-z0-9-]*)(?:="[^"]*")?/giy)].map((a) => a[1]!.toLowerCase()))
      expect(attributes.filter((a) => a.startsWith('on') || a === 'style'), file).toEqual([])
      expect(text, file).not.toMatch(/href="\s*javascript:/i)
    }
  })

  it('escapes every hostile string a publisher or a crate wrote', () => {
    const evil = files.get('packages/acme:evil.html')!.toString()
    expect(evil).toContain(escapeHtml(HOSTILE.description))
    expect(evil).toContain(escapeHtml(HOSTILE.license))
    expect(evil).toContain(`<span class="mono">${escapeHtml(HOSTILE.source)}</span>`)
    expect(evil).toContain(`href="${escapeHtml(new URL(HOSTILE.repository).href)}"`)
    const calc = files.get('packages/acme:calc.html')!.toString()
    for (const text of [HOSTILE.yank, HOSTILE.blame, HOSTILE.hint]) expect(calc).toContain(escapeHtml(text))
  })

  it('links only to files the build wrote', () => {
    const broken: string[] = []
    for (const [file, text] of pages()) {
      for (const [, target] of text.matchAll(/\s(?:href|src)="([^"]+)"/g)) {
        const decoded = target!.replace(/&amp;/g, '&')
        if (/^https?:/.test(decoded) || decoded.startsWith('#')) continue
        const resolved = new URL(decoded, `https://r.example/${file}`)
        const relative = decodeURIComponent(resolved.pathname.slice(1))
        if (!files.has(relative)) broken.push(`${file} -> ${target}`)
      }
    }
    expect(broken).toEqual([])
  })

  it('writes its own words in ASCII, characters beyond it as entities: a page is one byte per character unless a publisher wrote otherwise', () => {
    // Text of one byte per character is what V8 joins, encodes and hashes fastest, on every page of a build.
    for (const file of ['index.html', 'namespaces.html', 'publish.html', 'namespaces/acme.html', 'packages/acme:calc/fmt.html', 'packages/acme:calc/fmt@0.1.0.html']) {
      expect(files.get(file)!.toString('latin1'), file).toMatch(/^[\x09\x0a\x20-\x7e]*$/)
    }
    expect(files.get('packages/acme:calc/fmt@0.1.0.html')!.toString()).toMatch(/<title>acme:calc\/fmt@0\.1\.0 &middot; [^<]+<\/title>/)
    expect(files.get('packages/acme:calc.html')!.toString()).toContain('calc 1.2.0 &rarr; rand 0.8.5 &rarr; getrandom 0.2.15')
  })

  it('keeps the home page small: no search data in it', () => {
    expect(files.get('index.html')!.length).toBeLessThan(16_000)
    expect(fs.existsSync(path.join(out, 'api/v1/search-index/index.json'))).toBe(true)
  })
})
