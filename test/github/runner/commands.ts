/**
 * What a step tells the runner: workflow commands on stdout (`::error file=...::msg`,
 * `::add-mask::`, `::group::`, `::stop-commands::`), and the files GITHUB_OUTPUT,
 * GITHUB_ENV and GITHUB_PATH in the runner's `name=value` / heredoc format.
 */

export interface Annotation {
  level: 'error' | 'warning' | 'notice'
  message: string
  file?: string
  line?: number
  endLine?: number
  col?: number
  endColumn?: number
  title?: string
}

export interface CommandEffects {
  annotations: Annotation[]
  masks: string[]
  /** stdout without the command lines, groups shown as their titles. */
  log: string[]
}

function unescapeData(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%')
}

function unescapeProperty(s: string): string {
  return s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%3A/g, ':').replace(/%2C/g, ',').replace(/%25/g, '%')
}

/** Reads workflow commands out of a step's stdout. */
export function parseCommands(stdout: string): CommandEffects {
  const effects: CommandEffects = { annotations: [], masks: [], log: [] }
  let stopToken: string | undefined
  for (const line of stdout.split(/\r?\n/)) {
    const match = /^::([a-z-]+)(?: ([^:]*))?::(.*)$/.exec(line)
    if (!match) {
      effects.log.push(line)
      continue
    }
    const [, command, rawProps, rawData] = match as unknown as [string, string, string | undefined, string]
    if (stopToken !== undefined) {
      if (command === stopToken) stopToken = undefined
      else effects.log.push(line)
      continue
    }
    const props: Record<string, string> = {}
    for (const pair of (rawProps ?? '').split(',')) {
      const eq = pair.indexOf('=')
      if (eq > 0) props[pair.slice(0, eq).trim()] = unescapeProperty(pair.slice(eq + 1))
    }
    const message = unescapeData(rawData)
    switch (command) {
      case 'error':
      case 'warning':
      case 'notice': {
        const annotation: Annotation = { level: command, message }
        if (props.file) annotation.file = props.file
        if (props.line) annotation.line = Number(props.line)
        if (props.endLine) annotation.endLine = Number(props.endLine)
        if (props.col) annotation.col = Number(props.col)
        if (props.endColumn) annotation.endColumn = Number(props.endColumn)
        if (props.title) annotation.title = props.title
        effects.annotations.push(annotation)
        effects.log.push(`${command[0]!.toUpperCase()}${command.slice(1)}: ${message}`)
        break
      }
      case 'add-mask':
        if (message) effects.masks.push(message)
        break
      case 'group':
        effects.log.push(`▸ ${message}`)
        break
      case 'stop-commands':
        stopToken = rawData
        break
      case 'endgroup':
      case 'debug':
      case 'echo':
        break
      default:
        effects.log.push(line)
    }
  }
  return effects
}

/** Parses GITHUB_OUTPUT / GITHUB_ENV: `name=value` lines and `name<<DELIMITER` heredocs. */
export function parseFileCommands(text: string, file: string): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '')
    if (line === '') continue
    const heredoc = /^([^=]+?)<<(.+)$/.exec(line)
    const eq = line.indexOf('=')
    if (heredoc && (eq < 0 || eq > line.indexOf('<<'))) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string]
      const body: string[] = []
      let closed = false
      for (i++; i < lines.length; i++) {
        if (lines[i]!.replace(/\r$/, '') === delimiter) {
          closed = true
          break
        }
        body.push(lines[i]!)
      }
      if (!closed) throw new Error(`${file}: ${name}<<${delimiter} is never closed by a line ${delimiter}`)
      values[name] = body.join('\n')
    } else if (eq > 0) {
      values[line.slice(0, eq)] = line.slice(eq + 1)
    } else {
      throw new Error(`${file}: line ${i + 1} is neither name=value nor name<<DELIMITER: ${JSON.stringify(line)}`)
    }
  }
  return values
}
