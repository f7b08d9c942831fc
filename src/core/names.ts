/**
 * Package names and references (DESIGN §2).
 *
 *   namespace  [a-z][a-z0-9-]*, at most 64 chars, no `--`, no trailing `-`
 *   name       one or more such segments joined by `/`; `versions` is reserved
 *   id         <namespace>:<name>
 *   reference  <namespace>:<name>@<version>
 */
import { WharfError } from './errors.js'
import { checkVersion } from './versions.js'

const SEGMENT = /^[a-z][a-z0-9-]*$/
export const MAX_NAMESPACE_LENGTH = 64
export const MAX_NAME_LENGTH = 128
/** A name segment that would collide with a file of the static API. */
export const RESERVED_SEGMENTS: readonly string[] = ['versions']

export interface PackageId {
  namespace: string
  name: string
}

export interface PackageRef extends PackageId {
  version: string
}

function checkSegment(segment: string, what: string): string | undefined {
  if (segment === '') return `${what} is empty`
  if (!SEGMENT.test(segment)) {
    return `${what} "${segment}" must start with a lower-case letter and hold only a-z, 0-9 and -`
  }
  if (segment.includes('--')) return `${what} "${segment}" must not contain "--"`
  if (segment.endsWith('-')) return `${what} "${segment}" must not end with "-"`
  return undefined
}

/** Why `ns` is not a valid namespace, or undefined when it is. */
export function checkNamespace(ns: string): string | undefined {
  if (ns.length > MAX_NAMESPACE_LENGTH) return `namespace "${ns}" is longer than ${MAX_NAMESPACE_LENGTH} characters`
  return checkSegment(ns, 'namespace')
}

/** Why `name` is not a valid peer name (spelled like a namespace: it names files and appears in namespace files), or undefined. */
export function checkPeerName(name: string): string | undefined {
  if (name.length > MAX_NAMESPACE_LENGTH) return `peer name "${name}" is longer than ${MAX_NAMESPACE_LENGTH} characters`
  return checkSegment(name, 'peer name')
}

/** Why `name` (the part after the colon) is not a valid package name, or undefined. */
export function checkName(name: string): string | undefined {
  if (name.length > MAX_NAME_LENGTH) return `name "${name}" is longer than ${MAX_NAME_LENGTH} characters`
  for (const segment of name.split('/')) {
    const problem = checkSegment(segment, 'name segment')
    if (problem) return problem
    if (RESERVED_SEGMENTS.includes(segment)) return `name segment "${segment}" is reserved`
  }
  return undefined
}

/** Why `id` is not a valid `<namespace>:<name>`, or undefined. */
export function checkPackageId(id: string): string | undefined {
  const colon = id.indexOf(':')
  if (colon < 0) return `package id "${id}" has no namespace; write it as <namespace>:<name>`
  return checkNamespace(id.slice(0, colon)) ?? checkName(id.slice(colon + 1))
}

const NAME_HINT = 'names are lower case: <namespace>:<name>, e.g. run:calc/calculator'

export function parsePackageId(id: string): PackageId {
  const problem = checkPackageId(id)
  if (problem) throw new WharfError('INVALID_NAME', problem, { hint: NAME_HINT })
  const colon = id.indexOf(':')
  return { namespace: id.slice(0, colon), name: id.slice(colon + 1) }
}

export function formatPackageId(id: PackageId): string {
  return `${id.namespace}:${id.name}`
}

/** Parses `<namespace>:<name>@<version>`. */
export function parseReference(ref: string): PackageRef {
  const at = ref.lastIndexOf('@')
  if (at < 0) {
    throw new WharfError('INVALID_NAME', `reference "${ref}" has no version`, {
      hint: 'write it as <namespace>:<name>@<version>, e.g. wasi:http@0.2.0',
    })
  }
  const version = ref.slice(at + 1)
  const problem = checkVersion(version)
  if (problem) throw new WharfError('INVALID_VERSION', problem, { hint: 'versions are SemVer 2.0, e.g. 1.2.3' })
  return { ...parsePackageId(ref.slice(0, at)), version }
}

/** The package name a Cargo crate gets: lower case, `_` as `-`. */
export function crateToPackageName(crate: string): string {
  return crate.toLowerCase().replaceAll('_', '-')
}

/** The package id a crate gets in namespace `ns`. */
export function cratePackageId(ns: string, crate: string): string {
  return `${ns}:${crateToPackageName(crate)}`
}
