/**
 * `.crate` archives as anyone may upload them, read and unpacked with
 * node-tar: hand-made hostile archives are refused with a message naming the
 * entry, and nothing of them is written.
 */
import fs from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { isWharfError } from '../../src/core/errors.js'
import { readCrateArchive, unpackCrate } from '../../src/publish/index.js'
import { tempDir } from '../helpers/index-repo.js'
import { crateArchive, goodCrate, pax, tar, type TarMember } from '../helpers/tar.js'

const TOP = 'calc-1.0.0'
const lib: TarMember = { path: `${TOP}/src/lib.rs`, content: 'pub fn f() {}\n' }

/** A crate with one more member that should not be there. */
const withMember = (...extra: TarMember[]) => crateArchive([{ path: `${TOP}/Cargo.toml`, content: '[package]\n' }, lib, ...extra])

const HOSTILE: [string, Buffer, RegExp][] = [
  ['an absolute path', withMember({ path: '/tmp/wharf-evil', content: 'x' }), /has an absolute path: "\/tmp\/wharf-evil"/],
  ['a path that starts with ..', withMember({ path: '../wharf-evil', content: 'x' }), /climbs out with "\.\.": "\.\.\/wharf-evil"/],
  ['.. inside the top directory', withMember({ path: `${TOP}/src/../../wharf-evil`, content: 'x' }), /climbs out with "\.\."/],
  ['a pax header that renames a harmless member to ..', withMember(pax({ path: '../../wharf-evil' }), { path: `${TOP}/harmless`, content: 'x' }), /climbs out with "\.\.": "\.\.\/\.\.\/wharf-evil"/],
  ['a symbolic link', withMember({ path: `${TOP}/passwd`, type: '2', linkpath: '/etc/passwd' }), /holds a symbolic link: "calc-1\.0\.0\/passwd"/],
  ['a relative symbolic link', withMember({ path: `${TOP}/up`, type: '2', linkpath: '..' }), /holds a symbolic link/],
  ['a hard link', withMember({ path: `${TOP}/hard`, type: '1', linkpath: '/etc/passwd' }), /holds a hard link: "calc-1\.0\.0\/hard"/],
  ['a character device', withMember({ path: `${TOP}/null`, type: '3' }), /holds a device file/],
  ['a block device', withMember({ path: `${TOP}/sda`, type: '4' }), /holds a device file/],
  ['a FIFO', withMember({ path: `${TOP}/pipe`, type: '6' }), /holds a FIFO/],
  ['a member outside the top directory', withMember({ path: 'other-1.0.0/x.rs', content: 'x' }), /outside its top directory calc-1\.0\.0\/: "other-1\.0\.0\/x\.rs"/],
  ['a file in place of the top directory', crateArchive([{ path: TOP, content: 'x' }]), /a file where its top directory should be/],
  ['a setuid file', withMember({ path: `${TOP}/build.sh`, content: 'x', mode: 0o4755 }), /setuid, setgid or sticky/],
  ['a path twice', withMember({ ...lib, content: 'overwritten' }), /has the path "calc-1\.0\.0\/src\/lib\.rs" twice/],
  ['a backslash path', withMember({ path: `${TOP}\\..\\..\\evil`, content: 'x' }), /backslash/],
  ['an empty segment', withMember({ path: `${TOP}//x`, content: 'x' }), /empty or "\." segment/],
  ['no files at all', crateArchive([{ path: `${TOP}/`, type: '5' }]), /holds no files/],
  ['a gzip that is no tar', gzipSync(Buffer.from('crate a\n'.padEnd(512, '\0'))), /is not a gzipped tar archive/],
  ['no gzip at all', Buffer.from('plain text, not an archive'), /is not a gzipped tar archive/],
  ['a truncated archive', withMember({ path: `${TOP}/big.rs`, content: 'x'.repeat(4000) }).subarray(0, 60), /is not a gzipped tar archive/],
  ['a header whose checksum is wrong', gzipSync(Buffer.concat([Buffer.from(tar([lib])).fill(7, 148, 150)])), /is not a gzipped tar archive/],
]

function refusal(run: () => unknown): Error {
  try {
    run()
  } catch (e) {
    return e as Error
  }
  throw new Error('it was accepted')
}

describe('reading a .crate', () => {
  it('lists the files of a well-formed crate and their sizes', () => {
    const archive = readCrateArchive(goodCrate('calc', '1.0.0'), { topDir: TOP })
    expect(archive.topDir).toBe(TOP)
    expect(archive.files.map((f) => f.path)).toEqual([`${TOP}/Cargo.toml`, `${TOP}/src/lib.rs`])
    expect(archive.bytes).toBe(archive.files.reduce((n, f) => n + f.size, 0))
  })

  it('reads a crate cargo-style long paths (pax) name', () => {
    const deep = `${TOP}/${'a'.repeat(120)}/${'b'.repeat(120)}.rs`
    const archive = readCrateArchive(crateArchive([pax({ path: deep }), { path: 'ignored-short-name', content: 'x' }, lib]))
    expect(archive.files.map((f) => f.path)).toEqual([deep, lib.path])
  })

  it.each(HOSTILE)('refuses %s, naming what is wrong', (_what, bytes, message) => {
    const e = refusal(() => readCrateArchive(bytes, { topDir: TOP }))
    expect(isWharfError(e) && e.code).toBe('REJECTED')
    expect(e.message).toMatch(message)
  })

  it('refuses a crate whose top directory is not <name>-<version>', () => {
    expect(refusal(() => readCrateArchive(goodCrate('calc', '1.0.0'), { topDir: 'calc-2.0.0' })).message).toMatch(/outside its top directory calc-2\.0\.0\//)
  })

  it('stops at the size and entry limits, before inflating the rest (a gzip bomb)', () => {
    const files = Array.from({ length: 50 }, (_, i) => ({ path: `${TOP}/f${i}.rs`, content: 'x'.repeat(1000) }))
    const tooMany = refusal(() => readCrateArchive(crateArchive(files), { maxEntries: 10 }))
    expect(isWharfError(tooMany) && tooMany.code).toBe('TOO_LARGE')
    expect(tooMany.message).toMatch(/more than 10 entries/)
    expect(refusal(() => readCrateArchive(crateArchive(files), { maxBytes: 20_000 })).message).toMatch(/unpacks to more than 20000 bytes/)
    // A header that claims a terabyte is refused on the header, whatever follows (here: nothing).
    const bomb = crateArchive([{ path: `${TOP}/huge`, size: 2 ** 40 }], { end: false })
    const huge = refusal(() => readCrateArchive(bomb))
    expect(isWharfError(huge) && huge.code).toBe('TOO_LARGE')
  })
})

describe('unpacking a .crate', () => {
  it('writes the files of a well-formed crate under its top directory, owned by whoever unpacks', async () => {
    const dest = await tempDir('wharf-unpack-')
    const top = await unpackCrate(goodCrate('calc', '1.0.0'), dest)
    expect(top).toBe(path.join(dest, TOP))
    expect(fs.readFileSync(path.join(top, 'src/lib.rs'), 'utf8')).toBe('pub fn answer() -> u32 { 42 }\n')
    expect(fs.statSync(path.join(top, 'Cargo.toml')).uid).toBe(process.getuid!())
    expect(fs.readdirSync(dest)).toEqual([TOP])
  })

  it.each(HOSTILE)('writes nothing of %s', async (_what, bytes) => {
    const dest = await tempDir('wharf-unpack-')
    const outside = path.join(path.dirname(dest), 'wharf-evil')
    await expect(unpackCrate(bytes, path.join(dest, 'inner'))).rejects.toThrow(/the \.crate/)
    expect(fs.readdirSync(dest)).toEqual([])
    expect(fs.existsSync(outside)).toBe(false)
  })
})
