/**
 * `wharf publish --crate` reads the `.crate` cargo made with the same reader
 * the registry applies to uploads: a tampered one (what a compromised
 * packager would hand over) is refused with exit 1 and proposes nothing.
 */
import fs from 'node:fs'
import path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { wharf } from '../helpers/cli.js'
import { createTestIndex, tempDir, type TestIndex } from '../helpers/index-repo.js'
import { crateArchive } from '../helpers/tar.js'

const FIXTURE = path.resolve('test/fixtures/api/crates/greet')

let idx: TestIndex
let work: string
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  idx = await createTestIndex()
  work = await tempDir('wharf-crate-cli-')
  fs.writeFileSync(path.join(work, 'alice.key'), idx.key.privatePem, { mode: 0o600 })
  await fs.promises.cp(FIXTURE, path.join(work, 'greet'), { recursive: true })
  // Real cargo for everything; after `cargo package`, the .crate is swapped for a hostile one.
  const wrapper = path.join(work, 'cargo')
  fs.writeFileSync(
    wrapper,
    '#!/bin/sh\n"$WHARF_REAL_CARGO" "$@" || exit $?\nif [ "$1" = package ]; then cp "$WHARF_HOSTILE_CRATE" "$CARGO_TARGET_DIR/package/wharf_greet-0.1.0.crate"; fi\n',
    { mode: 0o755 },
  )
  env = { CARGO: wrapper, WHARF_REAL_CARGO: process.env.CARGO ?? 'cargo', CARGO_TARGET_DIR: path.join(work, 'target'), CARGO_NET_OFFLINE: 'true', CARGO_TERM_COLOR: 'never' }
})

describe('wharf publish --crate with a tampered .crate', () => {
  it.each([
    ['a symbolic link', { path: 'wharf_greet-0.1.0/evil', type: '2' as const, linkpath: '/etc/shadow' }, /the \.crate holds a symbolic link: "wharf_greet-0\.1\.0\/evil"/],
    ['a path with ..', { path: 'wharf_greet-0.1.0/../../evil', content: 'x' }, /the \.crate has a path that climbs out with "\.\."/],
    ['an absolute path', { path: '/tmp/wharf-crate-cli-evil', content: 'x' }, /the \.crate has an absolute path: "\/tmp\/wharf-crate-cli-evil"/],
  ])('refuses %s with exit 1 and proposes nothing', async (_what, member, message) => {
    const hostile = path.join(work, 'hostile.crate')
    fs.writeFileSync(hostile, crateArchive([{ path: 'wharf_greet-0.1.0/Cargo.toml', content: '[package]\nname = "wharf_greet"\nversion = "0.1.0"\n' }, member]))
    const branches = idx.git('branch', '--list')
    const run = await wharf(['publish', '--crate', path.join(work, 'greet'), '--name', 'acme:wharf-greet', '--key', path.join(work, 'alice.key'), '--author', 'alice', '--index', idx.dir], {
      env: { ...env, WHARF_HOSTILE_CRATE: hostile },
    })
    expect(run.code, run.stderr).toBe(1)
    expect(run.stderr).toMatch(message)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(idx.git('branch', '--list')).toBe(branches)
    expect(fs.existsSync('/tmp/wharf-crate-cli-evil')).toBe(false)
  }, 240_000)
})
