/**
 * Versions are strict SemVer 2.0 (DESIGN §2). Two versions that differ only in
 * build metadata are the same version, as on crates.io, and so are two that
 * differ only in the case of their pre-release.
 */
import semver from 'semver'
import { WharfError } from './errors.js'

// The official SemVer 2.0 grammar: no leading `v`, no leading zeros, no whitespace.
const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/
export const MAX_VERSION_LENGTH = 64

/** Why `v` is not a strict SemVer 2.0 version, or undefined when it is. */
export function checkVersion(v: string): string | undefined {
  if (v.length > MAX_VERSION_LENGTH) return `version "${v.slice(0, 20)}..." is longer than ${MAX_VERSION_LENGTH} characters`
  if (SEMVER.test(v)) return undefined
  if (/^[vV=]\d/.test(v)) return `version "${v}" must not start with "${v[0]}"; write ${v.slice(1)}`
  return `version "${v}" is not SemVer 2.0 (MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD])`
}

export function parseVersion(v: string): string {
  const problem = checkVersion(v)
  if (problem) throw new WharfError('INVALID_VERSION', problem, { hint: 'use a SemVer 2.0 version such as 1.2.3' })
  return v
}

/**
 * The identity two versions share when they are the same version: without
 * build metadata, and in lower case, so `1.0.0-rc1` and `1.0.0-RC1` are one
 * version (their files could not both live on a case-insensitive disk).
 */
export function versionKey(v: string): string {
  const plus = v.indexOf('+')
  return (plus < 0 ? v : v.slice(0, plus)).toLowerCase()
}

export function sameVersion(a: string, b: string): boolean {
  return versionKey(a) === versionKey(b)
}

/** SemVer precedence, for sorting. */
export function compareVersions(a: string, b: string): number {
  return semver.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0)
}

/**
 * A requirement in node-semver syntax (`^1.2`, `>=1 <2`, `1.x || 2.x`); a comma
 * joins comparators as in Cargo (`>=1, <2`).
 */
export function normalizeRange(range: string): string {
  return range.replace(/\s*,\s*/g, ' ')
}

/** Why `range` is not a valid version requirement, or undefined. */
export function checkRange(range: string): string | undefined {
  if (range.trim() === '') return 'version requirement is empty'
  return semver.validRange(normalizeRange(range)) === null ? `"${range}" is not a valid version requirement` : undefined
}

export function satisfies(version: string, range: string): boolean {
  return semver.satisfies(version, normalizeRange(range), { includePrerelease: true })
}
