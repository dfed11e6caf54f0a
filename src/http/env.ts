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
  }
}

function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }))
}

/**
 * The path of the first string (or key) holding U+0000, which PostgreSQL text and jsonb cannot
 * store: without this check such input would fail inside the database as a 500.
 */
function nulPath(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || '(body)' : undefined
  if (value === null || typeof value !== 'object') return undefined
  for (const [k, v] of Object.entries(value)) {
    const where = [...path, k]
    if (k.includes('\u0000')) return where.join('.')
    const found = nulPath(v, where)
    if (found !== undefined) return found
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
        const field = nulPath(result.data)
        if (field === undefined) return
        throw new AppError('validation_failed', `invalid ${where}: ${field}`, [
          { field, message: 'must not contain NUL (U+0000) characters' },
        ])
      }
      const errors = fieldErrors(result.error)
      throw new AppError('validation_failed', `invalid ${where}: ${errors.map((e) => e.field).join(', ')}`, errors)
    },
  })
}
