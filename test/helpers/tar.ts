/**
 * Tar archives written byte by byte (ustar headers, pax records), for tests
 * that need what no well-behaved packer writes: links, devices, `..`,
 * absolute paths, lying sizes.
 */
import { gzipSync } from 'node:zlib'

export interface TarMember {
  path: string
  /** ustar type flag: 0 file, 1 hard link, 2 symlink, 3 char device, 4 block device, 5 directory, 6 FIFO, x pax header. */
  type?: '0' | '1' | '2' | '3' | '4' | '5' | '6' | 'x'
  content?: string | Buffer
  linkpath?: string
  mode?: number
  /** The size the header claims, when it should not be the content's. */
  size?: number
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

function header(member: TarMember, size: number): Buffer {
  const block = Buffer.alloc(512)
  block.write(member.path.slice(0, 100), 0, 'utf8')
  block.write(octal(member.mode ?? (member.type === '5' ? 0o755 : 0o644), 8), 100)
  block.write(octal(0, 8), 108)
  block.write(octal(0, 8), 116)
  block.write(octal(size, 12), 124)
  block.write(octal(1_700_000_000, 12), 136)
  block.write(member.type ?? '0', 156)
  if (member.linkpath) block.write(member.linkpath.slice(0, 100), 157)
  block.write('ustar\0', 257)
  block.write('00', 263)
  // The checksum is taken with its own field as spaces.
  block.fill(' ', 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return block
}

function padded(content: Buffer): Buffer {
  return Buffer.concat([content, Buffer.alloc((512 - (content.length % 512)) % 512)])
}

/** A pax extended header whose records (`path`, `linkpath`, ...) override the next member's header fields. */
export function pax(records: Record<string, string>): TarMember {
  const lines = Object.entries(records).map(([key, value]) => {
    const body = ` ${key}=${value}\n`
    let length = body.length + 1
    while (`${length}${body}`.length !== length) length++
    return `${length}${body}`
  })
  return { path: 'PaxHeader', type: 'x', content: lines.join('') }
}

export function tar(members: TarMember[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = []
  for (const member of members) {
    const content = typeof member.content === 'string' ? Buffer.from(member.content) : (member.content ?? Buffer.alloc(0))
    parts.push(header(member, member.size ?? content.length), padded(content))
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}

/** A gzipped tar: what a `.crate` is. */
export function crateArchive(members: TarMember[], options: { end?: boolean } = {}): Buffer {
  return gzipSync(tar(members, options))
}

/** A well-formed `.crate` of `name-version`: a manifest and a library. */
export function goodCrate(name: string, version: string): Buffer {
  const top = `${name}-${version}`
  return crateArchive([
    { path: `${top}/`, type: '5' },
    { path: `${top}/Cargo.toml`, content: `[package]\nname = "${name}"\nversion = "${version}"\nedition = "2021"\n` },
    { path: `${top}/src/`, type: '5' },
    { path: `${top}/src/lib.rs`, content: 'pub fn answer() -> u32 { 42 }\n' },
  ])
}
