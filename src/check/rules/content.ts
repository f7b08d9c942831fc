/** Each added file is JSON of the right schema, within the size cap, and says what its path says. */
import { readBlob } from '../../git/index.js'
import { schemaErrors, type SchemaName } from '../../core/schemas.js'
import { parseStrictJson, type JsonProblemKind } from '../../core/json.js'
import { RULES, type CheckContext, type RuleId, type Subject } from '../types.js'

/** Each way a file's JSON can be refused: its rule and how to fix it. */
const JSON_PROBLEMS: Record<JsonProblemKind, { rule: RuleId; hint: string }> = {
  syntax: { rule: RULES.json, hint: 'generate records with `wharf publish` rather than by hand' },
  'too-deep': { rule: RULES.json, hint: 'no wharf file nests this deep; generate it with `wharf publish`' },
  'duplicate-key': { rule: RULES.duplicateKey, hint: 'write each key once: JSON readers disagree on which of two equal keys wins' },
  'reserved-key': { rule: RULES.reservedKey, hint: 'remove the key: no wharf file has it, and JavaScript readers treat it specially' },
  'lone-surrogate': { rule: RULES.unicode, hint: 'write text as valid Unicode: a lone surrogate has no UTF-8 form, so a signature over it means nothing' },
}

const SCHEMA_OF: Record<string, SchemaName> = { registry: 'registry', namespace: 'namespace', record: 'record', yank: 'yank', peer: 'peer' }

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
    const parsed = parseStrictJson(Buffer.from(blob).toString('utf8'))
    if (!parsed.ok) {
      subject.skip = true
      const { rule, hint } = JSON_PROBLEMS[parsed.kind]
      ctx.report({ rule, file, message: `${file}: ${parsed.message}`, hint })
      continue
    }
    subject.json = parsed.value
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
  const doc = json as { name?: string; version?: string; namespace?: string; peer?: string }
  if (where.kind === 'peer' && doc.peer !== where.peer) return `the file is the state of peer "${doc.peer}" but its path says "${where.peer}"`
  if (where.kind === 'namespace' && doc.namespace !== where.namespace) {
    return `the file names namespace "${doc.namespace}" but its path says "${where.namespace}"`
  }
  if ((where.kind === 'record' || where.kind === 'yank') && (doc.name !== where.name || doc.version !== where.version)) {
    return `the file is for ${doc.name}@${doc.version} but its path says ${where.name}@${where.version}`
  }
  return undefined
}
