/** JSON Schema validation with ajv (draft 2020-12). `schemas/` is the single source of truth. */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import defs from '../../schemas/defs.schema.json' with { type: 'json' }
import namespace from '../../schemas/namespace.schema.json' with { type: 'json' }
import record from '../../schemas/record.schema.json' with { type: 'json' }
import registry from '../../schemas/registry.schema.json' with { type: 'json' }
import report from '../../schemas/report.schema.json' with { type: 'json' }
import yank from '../../schemas/yank.schema.json' with { type: 'json' }

export type SchemaName = 'record' | 'namespace' | 'yank' | 'registry' | 'report'

const SCHEMA_IDS: Record<SchemaName, string> = {
  record: 'wharf:record/v1',
  namespace: 'wharf:namespace/v1',
  yank: 'wharf:yank/v1',
  registry: 'wharf:registry/v1',
  report: 'wharf:report/v1',
}

// ajv-formats is CommonJS; its default export arrives wrapped under tsx and esbuild alike.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void

let ajv: Ajv2020 | undefined
const compiled = new Map<SchemaName, ValidateFunction>()

function validator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name)
  if (!validate) {
    if (!ajv) {
      ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true })
      addFormats(ajv)
      ajv.addSchema([defs, record, namespace, yank, registry, report])
    }
    validate = ajv.getSchema(SCHEMA_IDS[name])!
    compiled.set(name, validate)
  }
  return validate
}

/** Human-readable schema problems, or an empty list when `value` is valid. */
export function schemaErrors(name: SchemaName, value: unknown): string[] {
  const validate = validator(name)
  if (validate(value)) return []
  return (validate.errors ?? []).map(describe)
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '(top level)'
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown field "${(error.params as { additionalProperty: string }).additionalProperty}"`
  }
  return `${where}: ${error.message ?? 'is invalid'}`
}
