/**
 * A small line chart as inline SVG: one series across versions, drawn from
 * numbers only (labels are escaped like any text). Colours come from the
 * stylesheet's classes, so the chart follows dark mode and needs no inline
 * style under the pages' Content-Security-Policy.
 */
import { html, trusted, type Html } from './html.js'

export interface ChartPoint {
  label: string
  value: number | undefined
}

const WIDTH = 320
const HEIGHT = 150
const LEFT = 46
const RIGHT = 10
const TOP = 12
const BOTTOM = 112

const fixed = (n: number) => (Math.round(n * 10) / 10).toString()

/** A chart of `points` (oldest first), or undefined when no point has a value. */
export function lineChart(id: string, title: string, points: readonly ChartPoint[], format: (n: number) => string): Html | undefined {
  // One pass, no arrays: every package page draws two charts, and arrays of
  // small integers here and of fractions there would make the JIT compile this again and again.
  let min = 0
  let max = -Infinity
  for (const p of points) {
    if (p.value === undefined) continue
    if (p.value < min) min = p.value
    if (p.value > max) max = p.value
  }
  if (max === -Infinity) return undefined
  const span = max - min || 1
  const step = points.length > 1 ? (WIDTH - LEFT - RIGHT) / (points.length - 1) : 0
  const x = (i: number) => (points.length > 1 ? LEFT + i * step : (LEFT + WIDTH - RIGHT) / 2)
  const y = (v: number) => BOTTOM - ((v - min) / span) * (BOTTOM - TOP)
  const segments: string[] = []
  let current: string[] = []
  points.forEach((p, i) => {
    if (p.value === undefined) {
      if (current.length) segments.push(current.join(' '))
      current = []
    } else current.push(`${fixed(x(i))},${fixed(y(p.value))}`)
  })
  if (current.length) segments.push(current.join(' '))
  const first = points[0]!.label
  const last = points[points.length - 1]!.label
  return html`<svg class="chart" id="${id}" viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="${id}-title">
<title id="${id}-title">${title}: ${points.flatMap((p) => (p.value === undefined ? [] : [`${p.label} ${format(p.value)}`])).join(', ')}</title>
<line class="axis" x1="${LEFT}" y1="${BOTTOM}" x2="${WIDTH - RIGHT}" y2="${BOTTOM}"/><line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${BOTTOM}"/>
<text class="tick" x="${LEFT - 4}" y="${TOP + 4}" text-anchor="end">${format(max)}</text><text class="tick" x="${LEFT - 4}" y="${BOTTOM}" text-anchor="end">${format(min)}</text>
${segments.map((s) => html`<polyline class="line" points="${s}"/>`)}
${points.map((p, i) => (p.value === undefined ? '' : html`<circle class="dot" cx="${fixed(x(i))}" cy="${fixed(y(p.value))}" r="3"><title>${p.label}: ${format(p.value)}</title></circle>`))}
<text class="tick" x="${LEFT}" y="${BOTTOM + 18}">${first}</text>${points.length > 1 ? html`<text class="tick" x="${WIDTH - RIGHT}" y="${BOTTOM + 18}" text-anchor="end">${last}</text>` : trusted('')}
</svg>`
}
