/** JSON Schema validation (draft 2020-12). `schemas/` is the single source of truth. */
import type { ErrorObject } from 'ajv/dist/2020.js'
import { schemaValidator } from './schema-validators.js'

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
  | 'api-package-list-page'
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

export type SchemaName = 'record' | 'namespace' | 'yank' | 'registry' | 'peer' | 'report' | ApiSchemaName

/** Human-readable schema problems, or an empty list when `value` is valid. */
export function schemaErrors(name: SchemaName, value: unknown): string[] {
  const validate = schemaValidator(name)
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
