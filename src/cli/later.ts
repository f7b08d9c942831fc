/** Commands whose help is fixed by DESIGN §10 but which this version does not run yet. */
import { WharfError } from '../core/errors.js'
import type { Command } from './command.js'

function later(name: string[], summary: string, help: string): Command {
  return {
    name,
    summary,
    help: `${help}\n\nNot available in this version: it exits 2.`,
    options: {},
    positionals: [0, 99],
    async run() {
      throw new WharfError('NOT_IMPLEMENTED', `wharf ${name.join(' ')} is not available in this version`, {
        hint: 'see `wharf --help` for the commands this version runs',
      })
    },
  }
}

export const laterCommands: Command[] = [
  later(['peer', 'add'], 'add a federation peer', 'wharf peer add NAME URL --namespace NS [--index DIR] [--json]'),
  later(['sync'], 'import delegated namespaces from peers', 'wharf sync [--index DIR] [--peer NAME] [--json]'),
]
