/** The one error type the API raises; onError turns it into application/problem+json. */
export const ERROR_CODES = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  validation_failed: 422,
  internal: 500,
  service_unavailable: 503,
} as const

export type ErrorCode = keyof typeof ERROR_CODES

export interface FieldError {
  /** Dotted path to the offending input, e.g. "attachments.0.content_base64". */
  field: string
  message: string
}

export class ApiError extends Error {
  override name = 'ApiError'
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra members for the problem body (e.g. expired_at on a 410). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail)
  }
  get status() {
    return ERROR_CODES[this.code]
  }
}

export const notFound = (what: string, field?: string) =>
  new ApiError('not_found', `${what} not found`, field ? [{ field, message: 'not found' }] : undefined)

/** A unique value the tenant already has: 409 naming the field. */
export const conflict = (detail: string, field: string) =>
  new ApiError('conflict', detail, [{ field, message: 'already exists' }])

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
  internal: 'Internal server error',
  service_unavailable: 'Service unavailable',
}

export interface Problem {
  type: string
  title: string
  status: number
  detail: string
  request_id: string
  errors?: FieldError[]
  [extra: string]: unknown
}

export function problemBody(err: ApiError, requestId: string): Problem {
  return {
    type: `urn:edp:problem:${err.code}`,
    title: TITLES[err.code],
    status: err.status,
    detail: err.detail,
    request_id: requestId,
    ...(err.errors ? { errors: err.errors } : {}),
    ...err.extra,
  }
}
