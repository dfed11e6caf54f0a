import type { Logger } from 'pino'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { ZodError } from 'zod'
import { AppError, type FieldError } from '../errors.ts'

/** Per-request context every route can read. */
export interface AppEnv {
  Variables: {
    requestId: string
    log: Logger
    /** Set by tenantAuth on /v1 routes. */
    tenantId: string
    /** The API key the request came with, and what it may do (tenantAuth). */
    apiKey: { id: string; scopes: readonly string[] }
  }
}

export function fieldErrors(error: ZodError): FieldError[] {
  const at = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(body)'
  // A strict object's unknown keys are one issue on the object: name each key instead.
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ field: at([...i.path, k]), message: 'is not a field this request takes' }))
      : [{ field: at(i.path), message: i.message }],
  )
}

/** JSON deeper than this is refused: no field of the API nests beyond a few levels. */
export const MAX_JSON_DEPTH = 32

/**
 * One linear walk over a validated body: the first string or key holding U+0000 (PostgreSQL text
 * and jsonb cannot store it, so it would fail inside the database as a 500), or the first value
 * nested deeper than MAX_JSON_DEPTH. Iterative, and a node's path is built only when it is
 * reported, so a hostile body costs time proportional to its size, never to size x depth.
 */
export function inputProblem(value: unknown): FieldError | undefined {
  interface Node {
    value: unknown
    key: string
    parent: Node | undefined
    depth: number
  }
  const pathOf = (n: Node | undefined): string => {
    const parts: string[] = []
    for (let at = n; at?.parent; at = at.parent) parts.push(at.key)
    return parts.reverse().join('.') || '(body)'
  }
  const stack: Node[] = [{ value, key: '', parent: undefined, depth: 0 }]
  while (stack.length) {
    const node = stack.pop()!
    const v = node.value
    if (typeof v === 'string') {
      if (v.includes('\u0000')) return { field: pathOf(node), message: 'must not contain NUL (U+0000) characters' }
      continue
    }
    if (v === null || typeof v !== 'object') continue
    if (node.depth >= MAX_JSON_DEPTH) {
      // Name the field near the top (e.g. events.0.metadata), not a 32-level path.
      let top = node
      while (top.parent && top.depth > 3) top = top.parent
      return { field: pathOf(top), message: `nests deeper than ${MAX_JSON_DEPTH} levels` }
    }
    for (const [k, child] of Object.entries(v)) {
      const at = { value: child, key: k, parent: node, depth: node.depth + 1 }
      if (k.includes('\u0000')) return { field: pathOf(at), message: 'keys must not contain NUL (U+0000) characters' }
      stack.push(at)
    }
  }
  return undefined
}

const TARGET_NAMES: Record<string, string> = { json: 'body', param: 'path' }

/**
 * Every sub-app is built through here so a failed validation is always our 422 problem
 * (never the validator's default body, which dumps the raw ZodError).
 */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      const where = TARGET_NAMES[result.target] ?? result.target
      if (result.success) {
        const found = inputProblem(result.data)
        if (found === undefined) return
        throw new AppError('validation_failed', `invalid ${where}: ${found.field}`, [found])
      }
      const errors = fieldErrors(result.error)
      throw new AppError('validation_failed', `invalid ${where}: ${errors.map((e) => e.field).join(', ')}`, errors)
    },
  })
}
