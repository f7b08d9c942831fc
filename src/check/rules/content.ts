/** Each added file is JSON of the right schema, within the size cap, and says what its path says. */
import { readBlob } from '../../git/index.js'
import { schemaErrors, type SchemaName } from '../../core/schemas.js'
import { RULES, type CheckContext, type Subject } from '../types.js'

const SCHEMA_OF: Record<string, SchemaName> = { registry: 'registry', namespace: 'namespace', record: 'record', yank: 'yank' }

export async function checkContent(ctx: CheckContext): Promise<void> {
  const limit = ctx.registry.policy.limits.max_file_bytes
  for (const subject of ctx.subjects) {
    const schema = SCHEMA_OF[subject.where.kind]
    if (subject.skip || !schema || !subject.change.oid) continue
    const file = subject.change.path
    const blob = await readBlob(ctx.repo, subject.change.oid)
    if (blob.length > limit) {
      subject.skip = true
      ctx.report({ rule: RULES.fileSize, file, message: `${file} is ${blob.length} bytes, over the ${limit}-byte limit`, hint: 'shorten the description or other free text' })
      continue
    }
    try {
      subject.json = JSON.parse(Buffer.from(blob).toString('utf8'))
    } catch (e) {
      subject.skip = true
      ctx.report({ rule: RULES.json, file, message: `${file} is not valid JSON: ${(e as Error).message}`, hint: 'generate records with `wharf publish` rather than by hand' })
      continue
    }
    const problems = schemaErrors(schema, subject.json)
    if (problems.length > 0) {
      subject.skip = true
      ctx.report({
        rule: RULES.schema,
        file,
        message: `${file} does not match schemas/${schema}.schema.json: ${problems.slice(0, 5).join('; ')}`,
        hint: 'fix the fields named above; `wharf publish` writes valid records',
      })
      continue
    }
    const mismatch = pathMismatch(subject)
    if (mismatch) {
      subject.skip = true
      ctx.report({ rule: RULES.pathMismatch, file, message: `${file}: ${mismatch}`, hint: 'the file must live at the path its content names (DESIGN §3)' })
    }
  }
}

function pathMismatch({ where, json }: Subject): string | undefined {
  const doc = json as { name?: string; version?: string; namespace?: string }
  if (where.kind === 'namespace' && doc.namespace !== where.namespace) {
    return `the file names namespace "${doc.namespace}" but its path says "${where.namespace}"`
  }
  if ((where.kind === 'record' || where.kind === 'yank') && (doc.name !== where.name || doc.version !== where.version)) {
    return `the file is for ${doc.name}@${doc.version} but its path says ${where.name}@${where.version}`
  }
  return undefined
}
