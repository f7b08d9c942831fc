/**
 * GitHub's filter patterns (`branches`, `tags`, `paths`, hashFiles): `*` any run
 * without `/`, `**` any run, `?` and `+` zero-or-one and one-or-more of the
 * preceding character, `[...]` a class; a leading `!` excludes, later patterns win.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++
        // `**/` also matches nothing, so `**/x` matches `x`.
        if (pattern[i + 1] === '/') {
          i++
          out += '(?:.*/)?'
        } else out += '.*'
      } else out += '[^/]*'
    } else if (c === '?' || c === '+') out += c
    else if (c === '[') {
      const end = pattern.indexOf(']', i)
      if (end < 0) out += '\\['
      else {
        out += pattern.slice(i, end + 1)
        i = end
      }
    } else out += c.replace(/[.^$(){}|\\/]/g, '\\$&')
  }
  return new RegExp(`^${out}$`)
}

/** Whether `value` passes a list of patterns where `!pattern` excludes and the last matching pattern decides. */
export function matchesFilter(patterns: string[], value: string): boolean {
  let matched = false
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (globToRegExp(pattern.slice(1)).test(value)) matched = false
    } else if (globToRegExp(pattern).test(value)) matched = true
  }
  return matched
}
