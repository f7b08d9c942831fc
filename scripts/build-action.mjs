#!/usr/bin/env node
/**
 * Builds the GitHub Action's bundle, dist/action/index.js: one self-contained
 * ESM file (esbuild) that runs on Node 20 and later, with the matrix's runner
 * scripts and the compiled schema validators beside it, and site.js, the site's page renderer on its own, which
 * build-api's worker threads import (src/site/index.ts names it). The build
 * is deterministic (same sources, same bytes), so test/action/bundle.test.ts
 * can fail CI when the committed bundle is stale.
 *
 *   node scripts/build-action.mjs [OUT_DIR]     (default dist/action)
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { precompiledSchemas } from './build.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const RUNNERS = path.join(ROOT, 'src/matrix/runners')
/** Runner scripts that need only Node (jco's hook needs jco's packages, which the bundle does not ship). */
const SHIPPED_RUNNERS = ['boundary.mjs', 'host.mjs', 'node-main.mjs', 'node-wasi.mjs', 'validate.mjs']
/** The site's stylesheet, script and icon, which the site renderer reads beside the module that holds it (the bundle). */
const SITE_ASSETS = path.join(ROOT, 'src/site/assets')

/** The bundle reads only the version from package.json: a dependency change elsewhere does not make it stale. */
const packageVersionOnly = {
  name: 'wharf-package-version',
  setup(build) {
    const file = path.join(ROOT, 'package.json')
    build.onLoad({ filter: /[\\/]package\.json$/ }, (args) => {
      if (args.path !== file) return undefined
      const { name, version } = JSON.parse(fs.readFileSync(file, 'utf8'))
      return { contents: JSON.stringify({ name, version }), loader: 'json' }
    })
  },
}

/** Builds into `outDir` and returns the files written, relative to it. */
export async function buildAction(outDir = path.join(ROOT, 'dist/action')) {
  fs.rmSync(outDir, { recursive: true, force: true })
  fs.mkdirSync(path.join(outDir, 'runners'), { recursive: true })
  await build({
    absWorkingDir: ROOT,
    // Two self-contained files, no chunks shared between them.
    entryPoints: { index: 'src/action/main.ts', site: 'src/site/index.ts' },
    outdir: outDir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    charset: 'utf8',
    legalComments: 'eof',
    logLevel: 'warning',
    // jco (component WIT, adapting p1 builds into components) is loaded with import() where used; the bundle
    // does not ship it, so a runner without it reports those steps as failed with jco's absence as the reason.
    external: ['@bytecodealliance/jco', '@bytecodealliance/preview2-shim', '@bytecodealliance/preview2-shim/*'],
    // CommonJS dependencies call require() for Node's own modules; an ESM bundle gives them one. The JSON Schemas are
    // compiled now, into schemas/ beside the bundle: a run neither loads ajv's compiler nor compiles (a fifth of a second).
    plugins: [packageVersionOnly, await precompiledSchemas(path.join(outDir, 'schemas'))],
    banner: { js: "import { createRequire as __wharfCreateRequire } from 'node:module'\nconst require = __wharfCreateRequire(import.meta.url)" },
  })
  for (const name of SHIPPED_RUNNERS) fs.copyFileSync(path.join(RUNNERS, name), path.join(outDir, 'runners', name))
  const assets = fs.readdirSync(SITE_ASSETS).sort()
  fs.mkdirSync(path.join(outDir, 'assets'))
  for (const name of assets) fs.copyFileSync(path.join(SITE_ASSETS, name), path.join(outDir, 'assets', name))
  const schemas = fs.readdirSync(path.join(outDir, 'schemas')).sort()
  return ['index.js', 'site.js', ...SHIPPED_RUNNERS.map((n) => `runners/${n}`), ...assets.map((n) => `assets/${n}`), ...schemas.map((n) => `schemas/${n}`)]
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = path.resolve(process.argv[2] ?? path.join(ROOT, 'dist/action'))
  const files = await buildAction(out)
  const bytes = fs.statSync(path.join(out, 'index.js')).size
  console.log(`wrote ${path.relative(process.cwd(), out) || '.'}: ${files.length} files, index.js ${(bytes / 1024).toFixed(0)} KiB`)
}
