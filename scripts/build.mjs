#!/usr/bin/env node
// Bundles the `wharf` command line into dist/cli with esbuild, so a run loads
// a few prebuilt files instead of compiling TypeScript: ESM, split into chunks
// so each command loads only the code it uses. `npm ci` runs it (prepare),
// and so does the test suite before it spawns the bin.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as esbuild from 'esbuild'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const out = path.join(root, 'dist', 'cli')
// Build beside the live bundle and swap it in whole: a wharf started mid-build runs the old or the new one, never a mix.
const staging = `${out}.${process.pid}.tmp`

/**
 * The schema validators compiled now, each bundled into its own CommonJS file
 * in `dir`, and a plugin that swaps src/core/schema-validators.ts for a loader
 * that requires them one by one: no run compiles a schema, loads ajv's
 * compiler, or parses validators it does not use. The Action's bundle uses
 * it too (scripts/build-action.mjs).
 */
export async function precompiledSchemas(dir) {
  const { tsImport } = await import('tsx/esm/api')
  const { default: standaloneCode } = await import('ajv/dist/standalone/index.js')
  const module = path.join(root, 'src', 'core', 'schema-validators.ts')
  const { createAjv, SCHEMA_IDS } = await tsImport(module, import.meta.url)
  // One CommonJS module per schema name, exporting its validate function; it still requires ajv's runtime helpers and ajv-formats' checks.
  const ajv = createAjv({ code: { source: true } })
  const sources = new Map(Object.entries(SCHEMA_IDS).map(([name, id]) => [name, standaloneCode(ajv, ajv.getSchema(id))]))
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: [...sources.keys()].map((name) => ({ in: `schema:${name}`, out: name })),
    outdir: dir,
    outExtension: { '.js': '.cjs' },
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'wharf-schema-sources',
        setup(build) {
          build.onResolve({ filter: /^schema:/ }, (args) => ({ path: args.path.slice('schema:'.length), namespace: 'wharf-schema' }))
          build.onLoad({ filter: /.*/, namespace: 'wharf-schema' }, (args) => ({ contents: sources.get(args.path), loader: 'js', resolveDir: path.dirname(module) }))
        },
      },
    ],
  })
  // Chunks sit in dist/cli, the validators in dist/cli/schemas.
  const loader = `import { createRequire } from 'node:module'
const load = createRequire(import.meta.url)
const loaded = new Map()
export function schemaValidator(name) {
  let validate = loaded.get(name)
  if (!validate) {
    validate = load(\`./schemas/\${name}.cjs\`)
    loaded.set(name, validate)
  }
  return validate
}
`
  return {
    name: 'wharf-precompiled-schemas',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]core[\\/]schema-validators\.ts$/ }, (args) => {
        if (args.path !== module) return undefined
        return { contents: loader, loader: 'js' }
      })
    },
  }
}

export async function build() {
  await fs.promises.rm(staging, { recursive: true, force: true })
  try {
    const plugins = [await precompiledSchemas(path.join(staging, 'schemas'))]
    const result = await esbuild.build({
      absWorkingDir: root,
      // The CLI, the matrix's child entry that wharf serve starts for each test job (matrix/isolated.ts), and the
      // site's renderer under its own name, which build-api's worker threads import (src/site/index.ts names it).
      entryPoints: { main: 'src/cli/main.ts', child: 'src/matrix/child.ts', site: 'src/site/index.ts' },
      outdir: staging,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // jco loads its wasm and worker files from beside itself, so it stays in node_modules.
      external: ['@bytecodealliance/jco', '@bytecodealliance/preview2-shim'],
      // Bundled CommonJS dependencies (semver, busboy, isomorphic-git's helpers) call require() for Node's built-ins.
      banner: { js: "import { createRequire as __wharfRequire } from 'node:module'; const require = __wharfRequire(import.meta.url);" },
      chunkNames: 'chunk-[hash]',
      // Less to read and parse at every start; names stay, so stack traces still read.
      minifyWhitespace: true,
      minifySyntax: true,
      sourcemap: 'linked',
      sourcesContent: false,
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
      plugins,
    })
    // Files the code reads from beside itself (new URL('./x', import.meta.url)), which every chunk finds in dist/cli:
    // the matrix's runners, started as their own node processes, and the site's stylesheet, script and icon.
    const besides = { runners: 'src/matrix/runners', assets: 'src/site/assets' }
    for (const [name, from] of Object.entries(besides)) await fs.promises.cp(path.join(root, from), path.join(staging, name), { recursive: true })
    // What the bundle was built from, so bin/wharf.js can tell when a source changed after the build.
    const inputs = Object.keys(result.metafile.inputs).filter((f) => f.startsWith('src/') || f === 'package.json')
    // The files above are copied and the schemas compiled, not bundled: esbuild's inputs do not name them.
    for (const from of Object.values(besides)) inputs.push(...fs.readdirSync(path.join(root, from)).map((f) => `${from}/${f}`))
    inputs.push(...fs.readdirSync(path.join(root, 'schemas')).map((f) => `schemas/${f}`))
    await fs.promises.writeFile(path.join(staging, 'inputs.json'), `${JSON.stringify([...new Set(inputs)].sort())}\n`)
    // Which sources each file of the bundle holds, by its name in dist/cli: to see what a command loads.
    const stagingRel = path.relative(root, staging)
    const sources = Object.fromEntries(
      Object.entries(result.metafile.outputs)
        .filter(([file]) => file.endsWith('.js'))
        .map(([file, output]) => [path.relative(stagingRel, file), Object.keys(output.inputs).sort()]),
    )
    await fs.promises.writeFile(path.join(staging, 'sources.json'), `${JSON.stringify(sources, null, 1)}\n`)
    const old = `${out}.${process.pid}.old`
    await fs.promises.rename(out, old).catch((e) => {
      if (e.code !== 'ENOENT') throw e
    })
    await fs.promises.rename(staging, out)
    await fs.promises.rm(old, { recursive: true, force: true })
    return result
  } catch (e) {
    await fs.promises.rm(staging, { recursive: true, force: true })
    throw e
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await build()
  } catch (e) {
    console.error(`wharf build: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
}
