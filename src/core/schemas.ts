/** JSON Schema validation with ajv (draft 2020-12). `schemas/` is the single source of truth. */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import api from '../../schemas/api.schema.json' with { type: 'json' }
import cargoIndex from '../../schemas/cargo-index.schema.json' with { type: 'json' }
import config from '../../schemas/config.schema.json' with { type: 'json' }
import defs from '../../schemas/defs.schema.json' with { type: 'json' }
import namespace from '../../schemas/namespace.schema.json' with { type: 'json' }
import record from '../../schemas/record.schema.json' with { type: 'json' }
import registry from '../../schemas/registry.schema.json' with { type: 'json' }
import report from '../../schemas/report.schema.json' with { type: 'json' }
import snapshot from '../../schemas/snapshot.schema.json' with { type: 'json' }
import yank from '../../schemas/yank.schema.json' with { type: 'json' }

/** What build-api writes (schemas/api, config, snapshot, cargo-index). */
export type ApiSchemaName =
  | 'config'
  | 'snapshot'
  | 'snapshot-part'
  | 'snapshot-leaf'
  | 'api-version'
  | 'api-versions'
  | 'api-stats'
  | 'api-health'
  | 'api-packages'
  | 'api-namespaces'
  | 'api-namespace'
  | 'api-crate'
  | 'api-dependents'
  | 'api-feed-page'
  | 'api-feed-head'
  | 'api-search-index'
  | 'api-search-shard'
  | 'api-well-known'
  | 'api-build-state'
  | 'cargo-config'
  | 'cargo-line'

export type SchemaName = 'record' | 'namespace' | 'yank' | 'registry' | 'report' | ApiSchemaName

const SCHEMA_IDS: Record<SchemaName, string> = {
  record: 'wharf:record/v1',
  namespace: 'wharf:namespace/v1',
  yank: 'wharf:yank/v1',
  registry: 'wharf:registry/v1',
  report: 'wharf:report/v1',
  config: 'wharf:config/v1',
  snapshot: 'wharf:snapshot/v1',
  'snapshot-part': 'wharf:snapshot/v1#/$defs/part',
  'snapshot-leaf': 'wharf:snapshot/v1#/$defs/leaf',
  'api-version': 'wharf:api/v1#/$defs/version',
  'api-versions': 'wharf:api/v1#/$defs/versions',
  'api-stats': 'wharf:api/v1#/$defs/stats',
  'api-health': 'wharf:api/v1#/$defs/health',
  'api-packages': 'wharf:api/v1#/$defs/packageList',
  'api-namespaces': 'wharf:api/v1#/$defs/namespaceList',
  'api-namespace': 'wharf:api/v1#/$defs/namespace',
  'api-crate': 'wharf:api/v1#/$defs/crate',
  'api-dependents': 'wharf:api/v1#/$defs/dependents',
  'api-feed-page': 'wharf:api/v1#/$defs/feedPage',
  'api-feed-head': 'wharf:api/v1#/$defs/feedHead',
  'api-search-index': 'wharf:api/v1#/$defs/searchIndex',
  'api-search-shard': 'wharf:api/v1#/$defs/searchShard',
  'api-well-known': 'wharf:api/v1#/$defs/wellKnown',
  'api-build-state': 'wharf:api/v1#/$defs/buildState',
  'cargo-config': 'wharf:cargo-index/v1#/$defs/config',
  'cargo-line': 'wharf:cargo-index/v1#/$defs/line',
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
      ajv.addSchema([defs, record, namespace, yank, registry, report, api, config, snapshot, cargoIndex])
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
