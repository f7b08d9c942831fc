/**
 * The full build's writer: a file begun unlisted and completed later (a
 * package page that waits for its dependents) holds the bytes it began
 * with and then the rest, and the snapshot lists it once, by all of them.
 */
import fs from 'node:fs'
import path from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pathUnder, TreeWriter } from '../../src/api/output.js'
import { sha256Hex } from '../../src/core/hash.js'
import { tempDir } from '../helpers/index-repo.js'

/** The snapshot lines a writer took: `<path>\t<sha256>` each. */
function listed(writer: TreeWriter): string[] {
  return writer
    .take()
    .leaves.flatMap(([, lines]) => lines.split('\n').filter(Boolean))
    .map((line) => line.split('\t').slice(1).join('\t'))
    .sort()
}

describe('TreeWriter.write', () => {
  it('lists a string by the bytes the file holds, whatever the string holds', async () => {
    const root = await tempDir()
    const writer = new TreeWriter(root)
    // A publisher's JSON may hold any code unit, a lone surrogate too: the file and the digest must encode it alike.
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('\ud800', '\udfff', '\ud83d\udca5', 'é', '<'), fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit))), maxLength: 40 })
    const written = fc.sample(text, { numRuns: 200, seed: 7 }).map((content, i) => ({ file: `p/${i}.html`, content, sha: writer.write(`p/${i}.html`, content) }))
    const onDisk = new Map(written.map(({ file }) => [file, fs.readFileSync(path.join(root, file))]))
    for (const { file, content, sha } of written) {
      expect(onDisk.get(file)!.equals(Buffer.from(content)), file).toBe(true)
      expect(sha, file).toBe(sha256Hex(onDisk.get(file)!))
    }
    expect(listed(writer)).toEqual(written.map(({ file }) => `${file}\t${sha256Hex(onDisk.get(file)!)}`).sort())
  })
})

describe('TreeWriter.complete', () => {
  it('appends to a file begun unlisted, and lists only the whole file, by all its bytes', async () => {
    const root = await tempDir()
    const writer = new TreeWriter(root)
    const head = 'héad of the page <main>'
    writer.write('packages/a.html', head, false)
    expect(listed(writer)).toEqual([])
    const rest = '<section>dépendents</section></main>'
    const sha = writer.complete('packages/a.html', rest)
    expect(fs.readFileSync(path.join(root, 'packages/a.html'), 'utf8')).toBe(head + rest)
    expect(sha).toBe(sha256Hex(head + rest))
    expect(listed(writer)).toEqual([`packages/a.html\t${sha256Hex(head + rest)}`])
  })

  it('completes a file another writer began, and one with nothing more to add', async () => {
    const root = await tempDir()
    new TreeWriter(root).write('p/b.html', 'begun elsewhere', false)
    const writer = new TreeWriter(root)
    writer.complete('p/b.html', ', ended here')
    writer.write('p/c.html', 'same', false)
    writer.complete('p/c.html', '')
    expect(fs.readFileSync(path.join(root, 'p/b.html'), 'utf8')).toBe('begun elsewhere, ended here')
    expect(fs.readFileSync(path.join(root, 'p/c.html'), 'utf8')).toBe('same')
    expect(listed(writer)).toEqual([`p/b.html\t${sha256Hex('begun elsewhere, ended here')}`, `p/c.html\t${sha256Hex('same')}`])
  })
})

describe('pathUnder', () => {
  it('is path.join for any root and any relative path, odd segments included', () => {
    const segment = fc.oneof(fc.constantFrom('.', '..', '', '...', '.a', 'a.'), fc.string({ unit: fc.constantFrom(...'ab.:@ '), minLength: 1, maxLength: 4 }))
    const file = fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => segments.join('/'))
    fc.assert(
      fc.property(fc.constantFrom('/', '/out', '/out/tree'), file, (root, f) => {
        expect(pathUnder(root, f)).toBe(path.join(root, f))
      }),
      { numRuns: 5_000 },
    )
  })
})
