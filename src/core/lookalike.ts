/**
 * Look-alike names, after Julia's AutoMerge: a new name must not equal an
 * existing one once case, separators and confusable characters are folded,
 * and must keep a minimum edit distance from it.
 */

// Characters that read alike in common fonts, folded to one representative.
const CONFUSABLES: [RegExp, string][] = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/cl/g, 'd'],
  [/[0]/g, 'o'],
  [/[1il|]/g, 'l'],
  [/[5]/g, 's'],
  [/[8]/g, 'b'],
  [/[2]/g, 'z'],
]

/** The skeleton two names share when they look alike: lower case, no separators, confusables folded. */
export function skeleton(name: string): string {
  let s = name.toLowerCase().replace(/[-_./:]/g, '')
  for (const [pattern, replacement] of CONFUSABLES) s = s.replace(pattern, replacement)
  return s
}

/** Optimal-string-alignment Damerau-Levenshtein distance (adjacent swaps cost 1). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1
  const cols = b.length + 1
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[rows - 1]![cols - 1]!
}

/**
 * Why `candidate` looks like `existing`, or undefined. Short names are only
 * compared by skeleton, since every short name is one edit from another.
 */
export function lookalikeReason(candidate: string, existing: string): string | undefined {
  if (candidate === existing) return undefined
  const a = skeleton(candidate)
  const b = skeleton(existing)
  if (a === b) return `"${candidate}" reads the same as "${existing}" once case, separators and confusable characters (0/o, 1/l, rn/m...) are folded`
  const shortest = Math.min(a.length, b.length)
  if (shortest >= 5 && editDistance(a, b) <= 1) return `"${candidate}" is one typo away from "${existing}"`
  if (shortest >= 9 && editDistance(a, b) <= 2) return `"${candidate}" is two typos away from "${existing}"`
  return undefined
}
