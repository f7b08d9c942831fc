// `node --import ./trace-loads.mjs`: appends the URL of every module the process loads to $WHARF_TRACE_LOADS.
import { register } from 'node:module'

register(
  `data:text/javascript,${encodeURIComponent(`
import fs from 'node:fs'
export async function load(url, context, next) {
  fs.appendFileSync(process.env.WHARF_TRACE_LOADS, url + '\\n')
  return next(url, context)
}`)}`,
)
