/**
 * The version a resolver picks: the newest live release, else the newest
 * live prerelease. latestVersion reads a package's versions from the end
 * (they are in SemVer order), so it is held to the definition itself.
 */
import fc from 'fast-check'
import semver from 'semver'
import { describe, expect, it } from 'vitest'
import { latestVersion, type PackageModel } from '../../src/api/index.js'
import { compareVersions } from '../../src/core/versions.js'

/** A package with these versions (yanked where marked), in the order a build keeps them. */
function model(versions: [string, boolean][]): PackageModel {
  const sorted = [...versions].sort(([a], [b]) => compareVersions(a, b))
  const entries = sorted.map(([version, yanked]) => ({ version, ...(yanked ? { yank: {} } : {}) }))
  return { id: 'acme:calc', namespace: 'acme', versions: entries } as unknown as PackageModel
}

/** The definition: the highest of the live releases, or of the live versions when none is a release. */
function definition(versions: [string, boolean][]): string | null {
  const live = versions.filter(([, yanked]) => !yanked).map(([v]) => v)
  const releases = live.filter((v) => semver.prerelease(v) === null)
  const pool = releases.length ? releases : live
  return pool.length ? pool.reduce((a, b) => (compareVersions(a, b) >= 0 ? a : b)) : null
}

describe('latest version', () => {
  it.each([
    [[['1.0.0', false], ['1.1.0', false], ['2.0.0-rc.1', false]], '1.1.0'],
    [[['1.0.0', false], ['1.1.0', true]], '1.0.0'],
    [[['1.0.0-alpha', false], ['1.0.0-beta', false]], '1.0.0-beta'],
    [[['1.0.0', true], ['2.0.0-rc.1', false]], '2.0.0-rc.1'],
    [[['1.0.0', true]], null],
    [[['1.0.0+b.2', false], ['1.0.0+b.10', false]], '1.0.0+b.2'],
  ] as [[string, boolean][], string | null][])('%j: %s', (versions, latest) => {
    expect(latestVersion(model(versions))).toBe(latest)
    expect(definition(versions)).toBe(latest)
  })

  it('is the definition for any versions, yanked or not', () => {
    const part = fc.integer({ min: 0, max: 3 })
    const version = fc
      .tuple(part, part, part, fc.option(fc.constantFrom('alpha', 'beta.1', 'rc.2', '0'), { nil: undefined }), fc.option(fc.constantFrom('b.1', 'b.10', 'x'), { nil: undefined }))
      .map(([a, b, c, pre, build]) => `${a}.${b}.${c}${pre ? `-${pre}` : ''}${build ? `+${build}` : ''}`)
    const versions = fc.uniqueArray(fc.tuple(version, fc.boolean()), { selector: ([v]) => v, maxLength: 12 })
    fc.assert(
      fc.property(versions, (vs) => {
        expect(latestVersion(model(vs))).toBe(definition(vs))
      }),
    )
  })
})
