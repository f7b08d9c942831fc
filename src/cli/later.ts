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
  later(['install'], 'resolve, download and verify a package', 'wharf install ID[@RANGE] [--registry URL] [--dir DIR]'),
  later(['peer', 'add'], 'add a federation peer', 'wharf peer add NAME URL --namespace NS [--index DIR] [--json]'),
  later(['sync'], 'import delegated namespaces from peers', 'wharf sync [--index DIR] [--peer NAME] [--json]'),
  later(['search'], 'search a registry', 'wharf search QUERY [--registry URL]'),
  later(['info'], 'show a package', 'wharf info ID [--registry URL]'),
  later(['list'], 'list packages', 'wharf list [--registry URL]'),
  later(['stats'], 'show registry statistics', 'wharf stats [--registry URL]'),
  later(['health'], 'check that a registry answers', 'wharf health [--registry URL]'),
]
