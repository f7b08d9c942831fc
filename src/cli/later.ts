/** Commands whose help is fixed by DESIGN §10 but which this version does not run yet. */
import { WharfError } from '../core/errors.js'
import type { Command } from './command.js'

function later(usage: string): Command {
  const command = /^wharf((?: [a-z][a-z-]*)+)/.exec(usage)![1]!.trim()
  return {
    help: `${usage}\n\nNot available in this version: it exits 2.`,
    options: {},
    positionals: [0, 99],
    async run() {
      throw new WharfError('NOT_IMPLEMENTED', `wharf ${command} is not available in this version`, {
        hint: 'see `wharf --help` for the commands this version runs',
      })
    },
  }
}

export const peerAdd = later('wharf peer add NAME URL --namespace NS [--index DIR] [--json]')
export const sync = later('wharf sync [--index DIR] [--peer NAME] [--json]')
