/** The version of wharf, read from package.json so a release changes it in one place. */
import pkg from '../../package.json' with { type: 'json' }

export const WHARF_VERSION: string = pkg.version
