/**
 * README badges, drawn by shields.io's own library (badge-maker): the
 * latest version of a package, and the status of the latest version on each
 * target of the matrix. A registry has few distinct badges (versions repeat
 * across packages, statuses are a handful), so each is drawn once per process.
 */
import { makeBadge } from 'badge-maker'
import { clip } from './html.js'

/** The targets a badge can name (a report's target names are never used as paths). */
export const BADGE_TARGETS = ['native', 'wasm32-unknown-unknown', 'wasm32-wasip1', 'wasm32-wasip2'] as const

const drawn = new Map<string, string>()
const MAX_DRAWN = 10_000

function badge(label: string, message: string, color: string): string {
  const key = `${label}\0${message}\0${color}`
  let svg = drawn.get(key)
  if (svg === undefined) {
    svg = makeBadge({ label, message, color, style: 'flat' })
    if (drawn.size >= MAX_DRAWN) drawn.clear()
    drawn.set(key, svg)
  }
  return svg
}

/** `badges/<id>.svg`: the version a resolver picks, or that every version is yanked. */
export function versionBadge(registry: string, latest: string | null, prerelease: boolean): string {
  const label = clip(registry, 40)
  if (latest === null) return badge(label, 'yanked', 'red')
  return badge(label, `v${latest}`, prerelease ? 'orange' : 'blue')
}

const STATUS: Record<string, [string, string]> = {
  pass: ['passing', 'brightgreen'],
  fail: ['failing', 'red'],
  unavailable: ['unavailable', 'lightgrey'],
}

/** `badges/<id>/<target>.svg`: how the latest version fared on a target (untested without a report naming it). */
export function targetBadge(target: string, status: string | undefined): string {
  const [message, color] = status === undefined ? ['untested', 'lightgrey'] : (STATUS[status] ?? [clip(status, 24), 'lightgrey'])
  return badge(target, message, color)
}
