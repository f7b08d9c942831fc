/** Times as index files carry them. */

/** RFC 3339 in UTC to the second (`2025-01-02T03:04:05Z`), as records, notices and reports carry it. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, 'Z')
}

/** A leap second's seconds field (`:60`, maybe with a fraction) before the zone. */
const LEAP_SECOND = /:60(?=(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$)/

/**
 * An RFC 3339 time as whole unix seconds, as the Run 2.0 API writes times. A
 * leap second (`23:59:60Z`, which RFC 3339 and the record schema allow but
 * Date.parse refuses) is the second after `23:59:59`, as POSIX time counts
 * it; a text no reading makes a time of is 0, so a document never carries
 * a null where a client parses an integer.
 */
export function unixSeconds(iso: string): number {
  const ms = Date.parse(iso)
  if (!Number.isNaN(ms)) return Math.floor(ms / 1000)
  const leap = LEAP_SECOND.test(iso) ? Date.parse(iso.replace(LEAP_SECOND, ':59')) : NaN
  return Number.isNaN(leap) ? 0 : Math.floor(leap / 1000) + 1
}
