/**
 * The one error type below HTTP. Services, parsers and jobs say what went wrong with a code from
 * this list; only src/http maps a code to a status (and a job's runtime treats any throw as a
 * failed attempt). The codes are the API's vocabulary, so they are named after outcomes a client
 * can act on, not after HTTP.
 */
export const ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'gone',
  'payload_too_large',
  'unsupported_media_type',
  'validation_failed',
  'rate_limited',
  'internal',
  'service_unavailable',
] as const

export type ErrorCode = (typeof ERROR_CODES)[number]

export interface FieldError {
  /** Dotted path to the offending input, e.g. "attachments.0.content_base64". */
  field: string
  message: string
}

export class AppError extends Error {
  override name = 'AppError'
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra members for the problem body (e.g. expired_at on a gone body). */
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail)
  }
}

/** Something the caller named does not exist for them (another tenant's ids included). */
export const notFound = (what: string, field?: string) =>
  new AppError('not_found', `${what} not found`, field ? [{ field, message: 'not found' }] : undefined)

/** A unique value the tenant already has, naming the field. */
export const conflict = (detail: string, field: string) => new AppError('conflict', detail, [{ field, message: 'already exists' }])

/** What the stored state forbids (a status change, removing what messages still name), naming the field. */
export const conflictWith = (detail: string, field: string, message: string) => new AppError('conflict', detail, [{ field, message }])

/** Input that parsed but cannot be accepted, naming the field. */
export const invalid = (detail: string, field: string, message: string) =>
  new AppError('validation_failed', detail, [{ field, message }])

/** Content that existed and was removed under the retention policy. */
export const gone = (detail: string, extra?: Record<string, unknown>) => new AppError('gone', detail, undefined, extra)
