/**
 * Checks the emulator against GitHub's own REST description (`@octokit/openapi`):
 * every response by operation and status, every JSON request body. The
 * description is 13 MB; it is read once per process, and each operation's
 * schema is compiled on first use with only the components it reaches.
 */
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { Ajv, type ValidateFunction } from 'ajv'
import addFormatsModule from 'ajv-formats'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

interface Spec {
  paths: Record<string, Record<string, JsonObject>>
  components: { schemas: Record<string, JsonObject>; responses: Record<string, JsonObject> }
}

let spec: Spec | undefined

function loadSpec(): Spec {
  if (!spec) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json')
    spec = JSON.parse(fs.readFileSync(file, 'utf8')) as Spec
  }
  return spec
}

/**
 * Statuses GitHub documents for the API as a whole rather than per operation
 * (bad credentials, missing permission, hidden or unknown resource, rate limits):
 * checked against `basic-error` when an operation does not list them.
 */
const GLOBAL_STATUSES = new Set([401, 403, 404, 429])

/**
 * GitHub's own bot commits as `41898282+github-actions[bot]@users.noreply.github.com`,
 * which the strict `email` format refuses; GitHub's description calls it an email all the same.
 */
export function looseEmail(ajv: Ajv): Ajv {
  return ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/)
}

export interface Operation {
  operationId: string
  method: string
  path: string
}

export class OpenApiValidator {
  // The first mismatch fails the test; compiling to collect every error takes three times as long.
  private readonly ajv = looseEmail(addFormats(new Ajv({ strict: false, allErrors: false, logger: false, inlineRefs: false })))
  private readonly compiled = new Map<string, ValidateFunction>()

  /** The operation GitHub describes for a method and path template, or undefined. */
  operation(method: string, template: string): Operation | undefined {
    const op = loadSpec().paths[template]?.[method.toLowerCase()]
    if (!op) return undefined
    return { operationId: String(op.operationId), method: method.toUpperCase(), path: template }
  }

  /** What is wrong with a response, by GitHub's description of the operation (empty when it conforms). */
  checkResponse(method: string, template: string, status: number, body: unknown, headers: Record<string, string | undefined>): string[] {
    const op = loadSpec().paths[template]?.[method.toLowerCase()]
    if (!op) return [`${method} ${template} is not an operation in GitHub's description`]
    const responses = op.responses as JsonObject
    let response = responses[String(status)] as JsonObject | undefined
    let label = `${op.operationId} ${status}`
    if (!response) {
      if (!GLOBAL_STATUSES.has(status)) return [`${op.operationId} does not answer ${status} in GitHub's description (it lists ${Object.keys(responses).join(', ')})`]
      response = { content: { 'application/json': { schema: { $ref: '#/components/schemas/basic-error' } } } }
      label = `${op.operationId} ${status} (basic-error)`
    }
    response = this.resolveResponse(response)
    const errors: string[] = []
    const declaredHeaders = (response.headers ?? {}) as JsonObject
    if (status >= 300 && status < 400 && 'Location' in declaredHeaders && !headers.location) errors.push(`${label}: Location header missing`)
    const content = response.content as JsonObject | undefined
    const schema = content ? ((content['application/json'] ?? Object.values(content)[0]) as JsonObject | undefined)?.schema : undefined
    if (!schema) {
      // GitHub sends its error object even where the description lists an error status without content.
      if (status >= 400 && body !== undefined) return this.checkSchema('basic-error', body).map((e) => `${label}: ${e}`)
      if (body !== undefined && body !== '') errors.push(`${label}: GitHub answers no body here, the emulator sent one`)
      return errors
    }
    const validate = this.compile(`response ${label}`, schema as JsonObject)
    if (!validate(body)) errors.push(...describe(label, validate))
    return errors
  }

  /** What is wrong with a JSON request body, by the operation's description. */
  checkRequest(method: string, template: string, body: unknown): string[] {
    const op = loadSpec().paths[template]?.[method.toLowerCase()]
    const requestBody = op?.requestBody as JsonObject | undefined
    if (!op || !requestBody) return []
    const content = requestBody.content as JsonObject | undefined
    const schema = (content?.['application/json'] as JsonObject | undefined)?.schema
    if (!schema) return []
    if (body === undefined) return requestBody.required ? [`${op.operationId}: a JSON body is required`] : []
    const label = `${op.operationId} request`
    const validate = this.compile(label, schema as JsonObject)
    return validate(body) ? [] : describe(label, validate)
  }

  /** Validates `value` against a named schema in `components.schemas` (for tests of the validator itself). */
  checkSchema(name: string, value: unknown): string[] {
    const validate = this.compile(`schema ${name}`, { $ref: `#/components/schemas/${name}` })
    return validate(value) ? [] : describe(name, validate)
  }

  private resolveResponse(response: JsonObject): JsonObject {
    const ref = response.$ref
    if (typeof ref === 'string') {
      const name = ref.replace('#/components/responses/', '')
      return loadSpec().components.responses[name] ?? {}
    }
    return response
  }

  private compile(key: string, schema: JsonObject): ValidateFunction {
    let validate = this.compiled.get(key)
    if (!validate) {
      validate = this.ajv.compile(standalone(schema))
      this.compiled.set(key, validate)
    }
    return validate
  }
}

/** The schema with the components it reaches copied under `definitions`, so each compiles alone and fast. */
function standalone(schema: JsonObject): JsonObject {
  const { schemas } = loadSpec().components
  const definitions: Record<string, Json> = {}
  const rewrite = (node: Json): Json => {
    if (Array.isArray(node)) return node.map(rewrite)
    if (node === null || typeof node !== 'object') return node
    const out: JsonObject = {}
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/schemas/')) {
        const name = value.slice('#/components/schemas/'.length)
        if (!(name in definitions)) {
          definitions[name] = {}
          definitions[name] = rewrite(schemas[name] ?? {})
        }
        out.$ref = `#/definitions/${name}`
      } else if (key === 'example' || key === 'examples' || key === 'description') {
        continue
      } else out[key] = rewrite(value)
    }
    return out
  }
  const root = rewrite(schema) as JsonObject
  return { allOf: [root], definitions }
}

function describe(label: string, validate: ValidateFunction): string[] {
  return (validate.errors ?? []).slice(0, 8).map((e) => `${label}: ${e.instancePath || '(root)'} ${e.message}${e.params && 'missingProperty' in e.params ? '' : ` ${JSON.stringify(e.params)}`}`)
}
