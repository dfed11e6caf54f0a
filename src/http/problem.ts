/**
 * Errors as HTTP answers: the one code → status table, and the application/problem+json body
 * every error response carries. Nothing below src/http chooses a status.
 */
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { AppError, type ErrorCode, type FieldError } from '../errors.ts'
import type { AppEnv } from './env.ts'

const STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  rate_limited: 429,
  internal: 500,
  service_unavailable: 503,
} as const satisfies Record<ErrorCode, number>

const TITLES: Record<ErrorCode, string> = {
  bad_request: 'Bad request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  conflict: 'Conflict',
  gone: 'Gone',
  payload_too_large: 'Payload too large',
  unsupported_media_type: 'Unsupported media type',
  validation_failed: 'Validation failed',
  rate_limited: 'Too many requests',
  internal: 'Internal server error',
  service_unavailable: 'Service unavailable',
}

export const statusOf = (code: ErrorCode) => STATUS[code]

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  request_id: string
  errors?: FieldError[]
  [extra: string]: unknown
}

/** The body of an error answer (the OpenAPI examples are built with it too, so they cannot drift). */
export function problemBody(err: AppError, requestId: string): Problem {
  return {
    type: `urn:edp:problem:${err.code}`,
    title: TITLES[err.code],
    status: STATUS[err.code],
    detail: err.detail,
    request_id: requestId,
    ...(err.errors ? { errors: err.errors } : {}),
    ...err.extra,
  }
}

export function problem(c: Context<AppEnv>, err: AppError) {
  return c.json(problemBody(err, c.get('requestId') ?? ''), STATUS[err.code], { 'content-type': 'application/problem+json' })
}

/** Hono's own exceptions (malformed JSON, wrong content type, body limit) in our vocabulary. */
function fromHono(err: HTTPException): AppError | undefined {
  if (err.status === 400) return new AppError('bad_request', err.message || 'malformed request')
  if (err.status === 413) return new AppError('payload_too_large', 'request body too large')
  if (err.status === 415) return new AppError('unsupported_media_type', err.message)
  if (err.status === 401) return new AppError('unauthorized', err.message)
  if (err.status === 404) return new AppError('not_found', err.message || 'not found')
  return undefined
}

/**
 * The app's one onError: known errors become their problem; anything else is answered 500 with
 * the request id, never with driver text or a stack. Hono keeps the error on the context (c.error),
 * and the request's one log line (request-log.ts) carries it as its cause.
 */
export function onError(err: Error, c: Context<AppEnv>) {
  const known = err instanceof AppError ? err : err instanceof HTTPException ? fromHono(err) : undefined
  if (known) return problem(c, known)
  return problem(c, new AppError('internal', `something went wrong; quote request id ${c.get('requestId')}`))
}
