/** Target names as users type them. */
import { WharfError } from '../core/errors.js'
import { TARGETS, type TargetName } from './types.js'

/** Old and host spellings, mapped to the names the report uses. */
const ALIASES: Record<string, TargetName> = {
  'wasm32-wasi': 'wasm32-wasip1',
  host: 'native',
}

/** Parses `native,wasm32-wasi,...` into report names, in matrix order, without duplicates. */
export function parseTargets(list: string): TargetName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  if (names.length === 0) throw new WharfError('USAGE', '--targets is empty', { hint: `choose from ${TARGETS.join(', ')}` })
  const out = new Set<TargetName>()
  for (const name of names) {
    const target = (TARGETS as readonly string[]).includes(name) ? (name as TargetName) : ALIASES[name]
    if (!target) throw new WharfError('USAGE', `unknown target "${name}"`, { hint: `choose from ${TARGETS.join(', ')}` })
    out.add(target)
  }
  return TARGETS.filter((t) => out.has(t))
}
