/**
 * Progress for a person watching a terminal: one line on stderr, rewritten in
 * place (phase, count, elapsed time) and cleared at the end. Off unless stderr
 * is a terminal and --json is off, so piped and parsed output stays clean.
 */
import type { Io, Values } from './command.js'

/** What a long-running step reports: the phase it is in and, where it counts, how far. */
export interface ProgressEvent {
  phase: string
  done?: number
  total?: number
  /** What else is worth a glance (bytes so far), shown after the count. */
  detail?: string
}

export interface Progress {
  /** Pass as the step's `onProgress`; undefined when progress is off, so the step does no work for it. */
  report: ((event: ProgressEvent) => void) | undefined
  /** Clears the line; call before printing the result. */
  end(): void
}

/** Redraws at most this often within a phase; a new phase shows at once. */
const REDRAW_MS = 100

export function createProgress(io: Io, values: Values, label: string, now: () => number = Date.now): Progress {
  const width = io.terminalColumns
  if (width === undefined || values.json) return { report: undefined, end() {} }
  const start = now()
  let shown = false
  let lastPhase: string | undefined
  let lastDraw = 0
  return {
    report(event) {
      const at = now()
      if (event.phase === lastPhase && at - lastDraw < REDRAW_MS) return
      lastPhase = event.phase
      lastDraw = at
      const count = event.done === undefined ? '' : event.total === undefined ? ` ${event.done}` : ` ${event.done}/${event.total}`
      const line = `${label}: ${event.phase}${count}${event.detail ? ` ${event.detail}` : ''} · ${((at - start) / 1000).toFixed(1)}s`
      // A line that wraps cannot be rewritten in place.
      io.stderr(`\r\x1b[2K${line.length < width ? line : `${line.slice(0, Math.max(0, width - 2))}…`}`)
      shown = true
    },
    end() {
      if (shown) io.stderr('\r\x1b[2K')
      shown = false
    },
  }
}
