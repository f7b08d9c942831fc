/**
 * `wharf serve` shows the pages build-api writes: `/` is the home page, a
 * publish adds the package's pages and badge at once, `/browse?q=` searches
 * on the server in the site's shell (hostile queries stay text), and the
 * download counts a server keeps reach the home page through
 * `/api/v1/downloads`, in Chromium.
 */
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONTENT_SECURITY_POLICY } from '../../src/site/index.js'
import { componentWith } from '../fixtures/api/component.js'
import { publish, serveTemp, type TestServer } from '../serve/helpers.js'

let server: TestServer
let browser: Browser
const token = 'site-token'

beforeAll(async () => {
  server = await serveTemp({ tokens: [{ namespace: 'acme', token }] })
  for (const [name, version, description] of [
    ['acme:calc', '0.1.0', 'A calculator'],
    ['acme:calc', '0.2.0', 'A calculator'],
    ['acme:notes', '1.0.0', 'Notes <b>bold</b>'],
  ] as const) {
    const res = await publish(server.url, token, { name, version, description, bytes: componentWith([], [`acme:${name.slice(5)}/api@${version}`]) })
    expect(res.status, await res.clone().text()).toBe(201)
  }
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

describe('the site on wharf serve', () => {
  it('serves the home page at / and the pages of a package just published', async () => {
    const home = await fetch(`${server.url}/`)
    expect(home.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const text = await home.text()
    expect(text).toContain('2 packages, 3 versions in 1 namespace.')
    expect(text).toContain(`content="${CONTENT_SECURITY_POLICY}"`)
    const page = await fetch(`${server.url}/packages/acme:calc.html`)
    expect(page.status).toBe(200)
    expect(await page.text()).toContain(`npx wharf install acme:calc@0.2.0 --registry ${server.url}`)
    const encoded = await fetch(`${server.url}/packages/acme%3Acalc%400.1.0.html`)
    expect(encoded.status).toBe(200)
    const badge = await fetch(`${server.url}/badges/acme:calc.svg`)
    expect(badge.headers.get('content-type')).toBe('image/svg+xml')
    expect(await badge.text()).toContain('v0.2.0')
  })

  it('answers /browse?q= with results in the site’s shell, a hostile query as text', async () => {
    const res = await fetch(`${server.url}/browse?q=calc`)
    expect(res.headers.get('content-security-policy')).toBe(`${CONTENT_SECURITY_POLICY}; frame-ancestors 'none'`)
    const text = await res.text()
    expect(text).toContain('href="./packages/acme:calc.html"')
    expect(text).not.toContain('acme:notes')
    const hostile = await (await fetch(`${server.url}/browse?q=${encodeURIComponent('"><script>alert(1)</script>')}`)).text()
    expect(hostile).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"')
    expect(hostile).not.toContain('<script>alert(1)')
    const notes = await (await fetch(`${server.url}/browse?q=notes`)).text()
    expect(notes).toContain('Notes &lt;b&gt;bold&lt;/b&gt;')
  })

  it('counts downloads and shows the most downloaded on the home page', async () => {
    for (let i = 0; i < 3; i++) expect((await fetch(`${server.url}/packages/acme:calc/0.1.0/artifact.wasm`)).status).toBe(200)
    expect((await fetch(`${server.url}/packages/acme:notes/1.0.0/artifact.wasm`)).status).toBe(200)
    const top = (await (await fetch(`${server.url}/api/v1/downloads`)).json()) as { total: number; versions: unknown[] }
    expect(top).toEqual({ total: 4, versions: [{ name: 'acme:calc', version: '0.1.0', downloads: 3 }, { name: 'acme:notes', version: '1.0.0', downloads: 1 }] })
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    const page = await browser.newPage()
    await page.goto(`${server.url}/`)
    await expect.poll(() => page.locator('#downloads').innerText()).toBe('4')
    await expect.poll(() => page.locator('#popular li').allInnerTexts()).toEqual(['acme:calc@0.1.0 3 downloads', 'acme:notes@1.0.0 1 download'])
    await expect(page.locator('#popular-note').isHidden()).resolves.toBe(true)
    await page.locator('#popular a').first().click()
    await expect(page.locator('h1').innerText()).resolves.toContain('acme:calc@0.1.0')
  })
})
