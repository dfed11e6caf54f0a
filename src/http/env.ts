import type { Logger } from 'pino'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { ZodError } from 'zod'
import { ApiError, type FieldError } from './errors.ts'

/** Per-request context every route can read. */
export interface AppEnv {
  Variables: {
    requestId: string
    log: Logger
    /** Set by tenantAuth on /v1 routes. */
    tenantId: string
  }
}

export function fieldErrors(error: ZodError): FieldError[] {
  return error.issues.map((i) => ({ field: i.path.map(String).join('.') || '(body)', message: i.message }))
}

/**
 * Every sub-app is built through here so a failed validation is always our 422 problem
 * (never the validator's default body, which dumps the raw ZodError).
 */
export function router() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return
      const errors = fieldErrors(result.error)
      const where = result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target
      throw new ApiError('validation_failed', `invalid ${where}: ${errors.map((e) => e.field).join(', ')}`, errors)
    },
  })
}
