/**
 * The site as people see it: a real build-api output served by nginx, read
 * by Debian's Chromium through playwright-core. Search as you type (by name
 * and by WIT interface), a package page with its versions, hashes and
 * matrix, a badge, keyboard use, a phone viewport, no JavaScript, hostile
 * records, and axe-core's accessibility rules. Screenshots of home and a
 * package page on a desktop and a phone are written to test-artifacts/site/.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { AxeBuilder } from '@axe-core/playwright'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildApi } from '../../src/api/index.js'
import { readJsonAt, MAIN } from '../../src/git/index.js'
import type { VersionRecord } from '../../src/core/types.js'
import { siteRenderer } from '../../src/site/index.js'
import { startNginx, type Nginx } from '../fixtures/api/nginx.js'
import { createSiteIndex, HOSTILE, HTTP_HANDLER, type SiteIndex } from './fixture.js'

const ARTIFACTS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test-artifacts/site')
const CHROMIUM = '/usr/bin/chromium'
const DESKTOP = { width: 1280, height: 900 }
const PHONE = { width: 390, height: 844 }

let site: SiteIndex
let nginx: Nginx
let browser: Browser
let context: BrowserContext
let page: Page
/** Page errors and failed requests seen while a test ran: a page of the site has none. */
let problems: string[] = []

const url = (file: string) => `${nginx.url}/${file}`

async function open(file: string): Promise<void> {
  problems = []
  const res = await page.goto(url(file))
  expect(res?.status(), `${file}: ${nginx.errors()}`).toBe(200)
}

beforeAll(async () => {
  site = await createSiteIndex()
  const out = path.join(site.work, 'public')
  nginx = await startNginx(out)
  await buildApi({ repo: site.idx.repo, out, baseUrl: nginx.url, pages: siteRenderer })
  // playwright-core starts the browser with a fresh profile directory of its own (it refuses a --user-data-dir flag) and removes it on close.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  context = await browser.newContext({ viewport: DESKTOP })
  page = await context.newPage()
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  // A navigation cancels what the page before it still loads (its icon): that is not a failure of the site.
  page.on('requestfailed', (r) => {
    if (r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`)
  })
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`)
  })
  await fs.promises.mkdir(ARTIFACTS, { recursive: true })
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await nginx?.stop()
})

describe('home', () => {
  it('lists the registry, its newest versions and how to use it', async () => {
    await open('index.html')
    expect(await page.title()).toBe(await page.locator('h1').innerText())
    await expect(page.locator('main').innerText()).resolves.toContain('5 packages, 7 versions in 2 namespaces')
    const newest = await page.locator('section[aria-labelledby="newest-title"] li a').allInnerTexts()
    expect(newest).toEqual(['beta:tool@0.1.0', 'acme:evil@6.6.6', 'acme:calc-core@0.3.0', 'acme:calc/fmt@0.1.0', 'acme:calc@1.2.0', 'acme:calc@1.1.0', 'acme:calc@1.0.0'])
    await page.locator('section[aria-labelledby="newest-title"] a', { hasText: 'acme:calc/fmt@0.1.0' }).click()
    await expect(page.locator('h1').innerText()).resolves.toContain('acme:calc/fmt@0.1.0')
    expect(problems).toEqual([])
  })

  it('filters packages as you type, and keeps the query in the address', async () => {
    await open('index.html')
    await page.locator('#q').click()
    await page.keyboard.type('calc')
    await expect.poll(() => page.locator('#results li .name').allInnerTexts()).toEqual(['acme:calc', 'acme:calc-core', 'acme:calc/fmt'])
    await expect(page.locator('#search-status').innerText()).resolves.toBe('3 packages match “calc”.')
    await page.keyboard.type('-core')
    await expect.poll(() => page.locator('#results li .name').allInnerTexts()).toEqual(['acme:calc-core'])
    await expect.poll(() => new URL(page.url()).searchParams.get('q')).toBe('calc-core')
    // a description word, two words at once, and nothing
    await page.locator('#q').fill('another namespace')
    await expect.poll(() => page.locator('#results li .name').allInnerTexts()).toEqual(['beta:tool'])
    await page.locator('#q').fill('zzz-nothing')
    await expect.poll(() => page.locator('#search-status').innerText()).toBe('No package matches “zzz-nothing”.')
    await expect(page.locator('#results li').count()).resolves.toBe(0)
    expect(problems).toEqual([])
  })

  it('finds the exporter of a WIT interface first, then its importers', async () => {
    await open('index.html?q=wasi%3Ahttp%2Fincoming-handler')
    await expect.poll(() => page.locator('#results li .name').allInnerTexts()).toEqual(['acme:calc', 'acme:calc/fmt'])
    const why = await page.locator('#results li .why').allInnerTexts()
    expect(why).toEqual([`exports ${HTTP_HANDLER}`, `imports ${HTTP_HANDLER}`])
    await page.locator('#results li a', { hasText: 'acme:calc' }).first().click()
    await expect(page.locator('h1').innerText()).resolves.toMatch(/^acme:calc\b/)
  })

  it('is reached and searched with the keyboard alone', async () => {
    await open('index.html')
    await page.keyboard.press('Tab')
    await expect(page.evaluate(() => document.activeElement?.textContent)).resolves.toBe('Skip to content')
    let tabs = 0
    while ((await page.evaluate(() => document.activeElement?.id)) !== 'q' && tabs++ < 10) await page.keyboard.press('Tab')
    expect(tabs).toBeLessThan(10)
    await page.keyboard.type('fmt')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('#results li .name').allInnerTexts()).toEqual(['acme:calc/fmt'])
  })
})

describe('package pages', () => {
  it('show the versions with the yanked one and its reason, the hashes and the matrix', async () => {
    await open('packages/acme:calc.html')
    const record = (await readJsonAt<VersionRecord>(site.idx.repo, MAIN, 'index/packages/acme/calc/1.2.0.json'))!
    const versions = page.locator('section[aria-labelledby="versions"] tbody tr')
    await expect(versions.locator('th').allInnerTexts()).resolves.toEqual(['1.2.0', '1.1.0', '1.0.0'])
    await expect(versions.nth(1).innerText()).resolves.toContain(`yanked: ${HOSTILE.yank}`)
    await expect(versions.nth(0).locator('td').nth(2).innerText()).resolves.toBe('84')
    const hashes = await page.locator('section[aria-labelledby="artifacts"] td.hash').allInnerTexts()
    expect(hashes).toEqual([record.artifacts[0]!.sha256])
    const matrix = page.locator('table.matrix tbody tr')
    await expect(matrix.locator('th').allInnerTexts()).resolves.toEqual(['native', 'wasm32-wasip1', 'wasm32-wasip2', 'wasm32-unknown-unknown'])
    await expect(matrix.nth(3).locator('.status').first().innerText()).resolves.toBe('fail')
    await expect(matrix.nth(0).innerText()).resolves.toContain('12 passed, 0 failed, 1 ignored')
    const compat = await page.locator('section[aria-labelledby="matrix"]').innerText()
    for (const text of ['84 / 100', '1.55×', 'G2', 'getrandom 0.2.15', 'calc 1.2.0 → rand 0.8.5 → getrandom 0.2.15', 'dependency compatibility', 'G3 not met']) expect(compat).toContain(text)
    await expect(page.locator('section[aria-labelledby="wit"] pre').innerText()).resolves.toContain(`export ${HTTP_HANDLER};`)
    await expect(page.locator('section[aria-labelledby="install"]').innerText()).resolves.toContain(`npx wharf install acme:calc@1.2.0 --registry ${nginx.url}`)
    await expect(page.locator('section[aria-labelledby="dependents"] li').allInnerTexts()).resolves.toEqual(['acme:calc/fmt 0.1.0 needs ^1.0.0', 'beta:tool 0.1.0 needs ^1.2 (optional)'])
    // the chart of size and speed across versions, drawn inline
    await expect(page.locator('#chart-speed circle').count()).resolves.toBe(2)
    await expect(page.locator('#chart-size circle').count()).resolves.toBe(3)
    // the artifact link downloads bytes that hash to what the page says
    const href = await page.locator('section[aria-labelledby="artifacts"] a', { hasText: 'download' }).getAttribute('href')
    const bytes = Buffer.from(await (await fetch(new URL(href!, page.url()))).arrayBuffer())
    expect((await import('node:crypto')).createHash('sha256').update(bytes).digest('hex')).toBe(record.artifacts[0]!.sha256)
    expect(problems).toEqual([])
  })

  it('of a crate give the Cargo lines, and a version page its exact version', async () => {
    await open('packages/acme:calc-core@0.3.0.html')
    const install = await page.locator('section[aria-labelledby="install"]').innerText()
    expect(install).toContain(`index = "sparse+${nginx.url}/cargo/"`)
    expect(install).toContain('calc_core = { version = "=0.3.0", registry = "wharf" }')
    expect(install).not.toContain('run v2 install')
    await open('packages/acme:calc@1.1.0.html')
    await expect(page.locator('.notice').innerText()).resolves.toContain(`Yanked on 2026-02-15: ${HOSTILE.yank}`)
  })

  it('show a badge that renders: its size and its text', async () => {
    await open('packages/acme:calc.html')
    const img = page.locator('section[aria-labelledby="badges"] img').first()
    await expect(img.getAttribute('alt')).resolves.toBe('latest version 1.2.0')
    const natural = await img.evaluate((el: HTMLImageElement) => (el.complete ? { w: el.naturalWidth, h: el.naturalHeight } : null))
    expect(natural?.h).toBe(20)
    expect(natural!.w).toBeGreaterThan(60)
    const badge = await page.request.get(url('badges/acme:calc.svg'))
    expect(badge.headers()['content-type']).toBe('image/svg+xml')
    await open('badges/acme:calc.svg')
    const svg = await page.evaluate(() => ({ width: Number(document.documentElement.getAttribute('width')), label: document.documentElement.getAttribute('aria-label'), text: document.documentElement.textContent }))
    expect(svg.width).toBe(natural!.w)
    expect(svg.label).toMatch(/: v1\.2\.0$/)
    await open('badges/acme:calc/wasm32-unknown-unknown.svg')
    await expect(page.evaluate(() => document.documentElement.getAttribute('aria-label'))).resolves.toBe('wasm32-unknown-unknown: failing')
  })
})

describe('hostile records', () => {
  it('show a publisher’s markup as text, link no unsafe URL, and run no script', async () => {
    for (const file of ['packages/acme:evil.html', 'packages/acme:evil@6.6.6.html', 'packages/acme:calc.html', 'packages/acme:calc@1.1.0.html', 'index.html?q=evil']) {
      await open(file)
      await page.waitForTimeout(100)
      expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned), file).toBeUndefined()
      expect(await page.locator('a[href^="javascript:" i]').count(), file).toBe(0)
      expect(await page.locator('main script, main img[src="x"], main svg[onload]').count(), file).toBe(0)
    }
    await open('packages/acme:evil.html')
    await expect(page.locator('.lede').innerText()).resolves.toBe(HOSTILE.description)
    await expect(page.locator('dl.facts').innerText()).resolves.toContain(HOSTILE.license)
    await expect(page.locator('dl.facts').innerText()).resolves.toContain(HOSTILE.source)
    // the repository URL is a link, but to the URL as given: its quote cannot close the attribute
    await expect(page.locator('dl.facts a[rel~="nofollow"]').first().getAttribute('href')).resolves.toBe(new URL(HOSTILE.repository).href)
  })

  it('are covered by the Content-Security-Policy: an inline script injected anyway does not run', async () => {
    await open('packages/acme:evil.html')
    const violations = await page.evaluate(async () => {
      const seen: string[] = []
      document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective))
      const script = document.createElement('script')
      script.textContent = 'window.__inline = true'
      document.body.append(script)
      await new Promise((r) => setTimeout(r, 50))
      return { ran: (window as unknown as { __inline?: boolean }).__inline === true, seen }
    })
    expect(violations.ran).toBe(false)
    expect(violations.seen.join()).toMatch(/script-src/)
  })
})

describe('on a phone, without JavaScript, in dark mode', () => {
  it('fits the width of a phone', async () => {
    await page.setViewportSize(PHONE)
    try {
      for (const file of ['index.html', 'packages/acme:calc.html', 'namespaces/acme.html', 'publish.html']) {
        await open(file)
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
        expect(overflow, file).toBeLessThanOrEqual(0)
      }
    } finally {
      await page.setViewportSize(DESKTOP)
    }
  })

  it('reads without JavaScript: pages render and every package is reachable through namespaces', async () => {
    const noJs = await browser.newContext({ viewport: DESKTOP, javaScriptEnabled: false })
    try {
      const p = await noJs.newPage()
      await p.goto(url('index.html'))
      await expect(p.locator('noscript').count()).resolves.toBe(1)
      await p.locator('a', { hasText: 'Namespaces' }).first().click()
      await p.locator('main a', { hasText: 'acme' }).first().click()
      await p.locator('main a', { hasText: 'acme:calc/fmt' }).click()
      await expect(p.locator('h1').innerText()).resolves.toContain('acme:calc/fmt')
    } finally {
      await noJs.close()
    }
  })

  it('follows the system colour scheme', async () => {
    await open('index.html')
    const light = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await page.emulateMedia({ colorScheme: 'dark' })
    const dark = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    await page.emulateMedia({ colorScheme: 'light' })
    expect(light).toBe('rgb(255, 255, 255)')
    expect(dark).toBe('rgb(13, 17, 23)')
  })
})

describe('accessibility (axe-core)', () => {
  // Every rule in the light scheme; the dark one changes only colours, so only contrast is checked again there.
  const runs = [
    ['light', ['index.html?q=calc', 'packages/acme:calc.html', 'packages/acme:calc@1.1.0.html', 'namespaces/acme.html']],
    ['dark', ['index.html?q=calc', 'packages/acme:calc.html', 'namespaces/acme.html']],
  ] as const
  for (const [scheme, files] of runs) {
    it(`finds no serious or critical violation on home, package, version and namespace pages (${scheme})`, { timeout: 180_000 }, async () => {
      await page.emulateMedia({ colorScheme: scheme })
      try {
        const found: string[] = []
        for (const file of files) {
          await open(file)
          if (file.startsWith('index.html')) await expect.poll(() => page.locator('#results li').count()).toBe(3)
          const axe = new AxeBuilder({ page })
          const result = await (scheme === 'dark' ? axe.withRules(['color-contrast']) : axe).analyze()
          for (const v of result.violations) {
            if (v.impact === 'serious' || v.impact === 'critical') found.push(`${file}: ${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
          }
        }
        expect(found).toEqual([])
      } finally {
        await page.emulateMedia({ colorScheme: 'light' })
      }
    })
  }
})

describe('screenshots', () => {
  it('of home and a package page on a desktop and a phone', async () => {
    const written: string[] = []
    for (const [device, viewport] of [['desktop', DESKTOP], ['phone', PHONE]] as const) {
      await page.setViewportSize(viewport)
      for (const [name, file] of [['home', 'index.html?q=calc'], ['package', 'packages/acme:calc.html']] as const) {
        await open(file)
        if (name === 'home') await expect.poll(() => page.locator('#results li').count()).toBe(3)
        const shot = path.join(ARTIFACTS, `${name}-${device}.png`)
        await page.screenshot({ path: shot, fullPage: true })
        expect(fs.statSync(shot).size).toBeGreaterThan(10_000)
        written.push(shot)
      }
    }
    await page.setViewportSize(DESKTOP)
    console.log(`site screenshots: ${written.join(', ')}`)
  })
})
