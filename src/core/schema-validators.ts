/**
 * The validator of each schema name, compiled with ajv from `schemas/` on
 * first use. The `wharf` bundle replaces this module with one that loads the
 * same validators, compiled ahead of time from `createAjv` by scripts/build.mjs
 * into dist/cli/schemas/, so a run of the command line pays no schema
 * compilation and loads only the validators it uses.
 */
import { Ajv2020, type Options, type ValidateFunction } from 'ajv/dist/2020.js'
import addFormatsModule from 'ajv-formats'
import api from '../../schemas/api.schema.json' with { type: 'json' }
import cargoIndex from '../../schemas/cargo-index.schema.json' with { type: 'json' }
import config from '../../schemas/config.schema.json' with { type: 'json' }
import defs from '../../schemas/defs.schema.json' with { type: 'json' }
import namespace from '../../schemas/namespace.schema.json' with { type: 'json' }
import peer from '../../schemas/peer.schema.json' with { type: 'json' }
import record from '../../schemas/record.schema.json' with { type: 'json' }
import registry from '../../schemas/registry.schema.json' with { type: 'json' }
import report from '../../schemas/report.schema.json' with { type: 'json' }
import snapshot from '../../schemas/snapshot.schema.json' with { type: 'json' }
import yank from '../../schemas/yank.schema.json' with { type: 'json' }

import type { SchemaName } from './schemas.js'

export const SCHEMA_IDS: Record<SchemaName, string> = {
  record: 'wharf:record/v1',
  namespace: 'wharf:namespace/v1',
  yank: 'wharf:yank/v1',
  registry: 'wharf:registry/v1',
  peer: 'wharf:peer/v1',
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
  'api-package-list-page': 'wharf:api/v1#/$defs/packageListPage',
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

/** An ajv with every schema of schemas/ added, as wharf validates; `options` for the build's ahead-of-time compilation. */
export function createAjv(options: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, ...options })
  addFormats(ajv)
  ajv.addSchema([defs, record, namespace, yank, registry, peer, report, api, config, snapshot, cargoIndex])
  return ajv
}

let ajv: Ajv2020 | undefined
const compiled = new Map<SchemaName, ValidateFunction>()

/** The validator of schema `name`, compiled on first use. */
export function schemaValidator(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name)
  if (!validate) {
    ajv ??= createAjv()
    validate = ajv.getSchema(SCHEMA_IDS[name])!
    compiled.set(name, validate)
  }
  return validate
}
