/** Times as index files carry them. */

/** RFC 3339 in UTC to the second (`2025-01-02T03:04:05Z`), as records, notices and reports carry it. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z')
}
