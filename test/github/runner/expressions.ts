/**
 * `${{ }}` evaluation with GitHub's own @actions/expressions: contexts as plain
 * JSON, the runner's status functions (success, failure, always, cancelled) and
 * hashFiles, and template tokens from @actions/workflow-parser turned into values.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { Evaluator, Lexer, Parser, data } from '@actions/expressions'
import { TokenType } from '@actions/expressions/lexer'
import type { FunctionDefinition } from '@actions/expressions/funcs/info'
import { truthy } from '@actions/expressions/result'
import { isBasicExpression, isBoolean, isMapping, isNumber, isSequence, isString } from '@actions/workflow-parser'
import type { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token'
import { globToRegExp } from './globs.js'

export type Contexts = Record<string, unknown>

export interface Status {
  /** Whether an earlier step (or needed job) failed. */
  failed: boolean
  cancelled: boolean
  /** A needed job did not succeed (it was skipped): success() is false, failure() is not true. */
  incomplete?: boolean
}

function toData(value: unknown): data.ExpressionData {
  return JSON.parse(JSON.stringify(value ?? null), data.reviver) as data.ExpressionData
}

function fromData(value: data.ExpressionData): unknown {
  return JSON.parse(JSON.stringify(value, data.replacer)) as unknown
}

function statusFunctions(status: Status, workspace: string | undefined): FunctionDefinition[] {
  const bool = (b: boolean) => new data.BooleanData(b)
  const functions: FunctionDefinition[] = [
    { name: 'success', minArgs: 0, maxArgs: 0, call: () => bool(!status.failed && !status.cancelled && !status.incomplete) },
    { name: 'failure', minArgs: 0, maxArgs: 0, call: () => bool(status.failed) },
    { name: 'always', minArgs: 0, maxArgs: 0, call: () => bool(true) },
    { name: 'cancelled', minArgs: 0, maxArgs: 0, call: () => bool(status.cancelled) },
  ]
  functions.push({
    name: 'hashFiles',
    minArgs: 1,
    maxArgs: 255,
    call: (...patterns) => new data.StringData(workspace ? hashFiles(workspace, patterns.map((p) => p.coerceString())) : ''),
  })
  return functions
}

/** hashFiles as the runner computes it: sha256 over the sha256 of each matching file, in path order; '' when none match. */
export function hashFiles(workspace: string, patterns: string[]): string {
  const include = patterns.filter((p) => !p.startsWith('!')).map((p) => globToRegExp(p))
  const exclude = patterns.filter((p) => p.startsWith('!')).map((p) => globToRegExp(p.slice(1)))
  const files: string[] = []
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === '.git') continue
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(full)
      else if (entry.isFile()) files.push(path.relative(workspace, full))
    }
  }
  walk(workspace)
  const matched = files.filter((f) => include.some((r) => r.test(f)) && !exclude.some((r) => r.test(f))).sort()
  if (matched.length === 0) return ''
  const outer = createHash('sha256')
  for (const file of matched) outer.update(createHash('sha256').update(fs.readFileSync(path.join(workspace, file))).digest())
  return outer.digest('hex')
}

/** Evaluates one expression (without `${{ }}`) against the contexts; the value as JSON. */
export function evaluate(expression: string, contexts: Contexts, status: Status = { failed: false, cancelled: false }, workspace?: string): unknown {
  return fromData(evaluateData(expression, contexts, status, workspace))
}

function evaluateData(expression: string, contexts: Contexts, status: Status, workspace: string | undefined): data.ExpressionData {
  const functions = statusFunctions(status, workspace)
  const lexed = new Lexer(expression).lex()
  // @actions/expressions 0.3.61 unescapes only the first '' of a string literal; GitHub's runner unescapes them all.
  for (const token of lexed.tokens) {
    if (token.type === TokenType.STRING && token.lexeme.length >= 2) token.value = token.lexeme.slice(1, -1).replace(/''/g, "'")
  }
  const parsed = new Parser(lexed.tokens, Object.keys(contexts), functions).parse()
  const dictionary = new data.Dictionary(...Object.entries(contexts).map(([key, value]) => ({ key, value: toData(value) })))
  return new Evaluator(parsed, dictionary, new Map(functions.map((f) => [f.name.toLowerCase(), f]))).evaluate()
}

/** An `if:` condition: the converter has already wrapped it in `success() && (...)` where GitHub does. */
export function condition(expression: string, contexts: Contexts, status: Status, workspace?: string): boolean {
  return truthy(evaluateData(expression, contexts, status, workspace))
}

/** A template token (literal, expression, mapping, sequence) as a JSON value. */
export function resolveToken(token: TemplateToken | undefined, contexts: Contexts, status?: Status, workspace?: string): unknown {
  if (!token) return undefined
  if (isBasicExpression(token)) return evaluate(token.expression, contexts, status, workspace)
  if (isString(token)) return token.value
  if (isNumber(token)) return token.value
  if (isBoolean(token)) return token.value
  if (isSequence(token)) {
    const out: unknown[] = []
    for (const item of token) out.push(resolveToken(item, contexts, status, workspace))
    return out
  }
  if (isMapping(token)) {
    const out: Record<string, unknown> = {}
    for (const pair of token) out[String(resolveToken(pair.key, contexts, status, workspace))] = resolveToken(pair.value, contexts, status, workspace)
    return out
  }
  return null
}

/** A value as the runner passes it to a process: strings as they are, booleans and numbers printed, objects as JSON. */
export function asString(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value, null, 2)
}

/** A mapping token resolved to `{ name: string }` (env, with, outputs). */
export function resolveStringMap(token: TemplateToken | undefined, contexts: Contexts, status?: Status, workspace?: string): Record<string, string> {
  const value = resolveToken(token, contexts, status, workspace)
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {}
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asString(v)]))
}
