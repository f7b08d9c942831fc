#!/usr/bin/env node
// Installs the system packages the test suite needs, or stops naming the command to run.
// Runs before `vitest run` in `npm test`; a test never skips because a tool is missing.
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'

/** Each requirement: the Debian packages that provide it and how to tell it is there. */
const REQUIREMENTS = [
  { why: 'index repos (git CLI cross-checks)', packages: ['git'], present: () => onPath('git') },
  {
    why: 'the wasm compatibility matrix (Debian Rust with wasm32 targets)',
    packages: ['rustc', 'cargo', 'libstd-rust-dev-wasm32', 'lld'],
    present: () => fs.existsSync('/usr/bin/cargo') && fs.existsSync('/usr/lib/rustlib/wasm32-unknown-unknown') && onPath('rust-lld', 'lld'),
  },
  { why: 'the static host for API tests', packages: ['nginx-light'], present: () => onPath('nginx') || fs.existsSync('/usr/sbin/nginx') },
  {
    why: "the matrix's dependency fixture (getrandom from Debian's vendored crate sources)",
    packages: ['librust-getrandom-dev'],
    present: () => fs.existsSync('/usr/share/cargo/registry') && fs.readdirSync('/usr/share/cargo/registry').some((d) => d.startsWith('getrandom-0.2.')),
  },
  { why: "the matrix's native peak memory (GNU time)", packages: ['time'], present: () => fs.existsSync('/usr/bin/time') },
  { why: "the site's browser tests (Chromium, driven by playwright-core)", packages: ['chromium'], present: () => fs.existsSync('/usr/bin/chromium') },
  { why: "wharf serve's sandbox for uploaded crates (bubblewrap)", packages: ['bubblewrap'], present: () => onPath('bwrap') },
  {
    // Debian 12's cargo (1.65) predates sparse registries; Debian 13's or rustup's (~/.cargo/bin) will do.
    why: 'a cargo with sparse-registry support (1.68+) for the Cargo index tests',
    packages: ['cargo'],
    present: () => [process.env.CARGO, `${process.env.HOME}/.cargo/bin/cargo`, 'cargo'].some((c) => c && cargoMinor(c) >= 68),
  },
]

function cargoMinor(cargo) {
  const result = spawnSync(cargo, ['--version'], { encoding: 'utf8' })
  return Number(/cargo 1\.(\d+)/.exec(result.stdout ?? '')?.[1] ?? 0)
}

function onPath(...names) {
  return names.some((name) => spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0)
}

const missing = REQUIREMENTS.filter((r) => !r.present())
if (missing.length === 0) process.exit(0)

const packages = [...new Set(missing.flatMap((r) => r.packages))]
const command = `apt-get update && apt-get install -y ${packages.join(' ')}`
const isRoot = process.getuid?.() === 0
const canSudo = !isRoot && onPath('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0
if (!onPath('apt-get') || (!isRoot && !canSudo)) {
  console.error(`Missing system packages for ${missing.map((r) => r.why).join('; ')}.\nInstall them, then run npm test again:\n  sudo sh -c '${command}'`)
  process.exit(1)
}
console.error(`Installing ${packages.join(' ')} (${missing.map((r) => r.why).join('; ')})...`)
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
const aptGet = (...args) =>
  isRoot ? execFileSync('apt-get', args, { stdio: 'inherit', env }) : execFileSync('sudo', ['-n', '-E', 'apt-get', ...args], { stdio: 'inherit', env })
try {
  aptGet('update', '-qq')
  aptGet('install', '-y', '-qq', ...packages)
} catch {
  console.error(`Installing failed. Run it by hand, then npm test again:\n  sudo sh -c '${command}'`)
  process.exit(1)
}
const still = REQUIREMENTS.filter((r) => !r.present())
if (still.length > 0) {
  console.error(`Still missing after install: ${still.map((r) => r.packages.join(' ')).join(', ')}`)
  process.exit(1)
}
