/** zod pieces several routes share; each route keeps its own request and response schemas. */
import { z } from '@hono/zod-openapi'
import { HEADER_SAFE } from '../content-safety.ts'
import { AppError, type ErrorCode, type FieldError } from '../errors.ts'
import { REQUEST_ID } from './examples.ts'
import { problemBody } from './problem.ts'

export const Uuid = z.uuid()

/** An `{id}` path parameter; the example is an id of the kind the route takes. */
export const idParam = (example: string) => z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' }, example }) })

export const Email = z.email().max(254)

/**
 * Text that ends up in a mail header (subject, header value, display name): a CR or LF would let
 * it forge headers, so control characters are refused; TAB is allowed, as in any header text.
 */
export const headerText = <T extends z.ZodString>(s: T) =>
  s.regex(HEADER_SAFE, 'must not contain control characters (CR, LF, …) or line separators; TAB is allowed')

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional().openapi({ description: 'The `next_cursor` of the previous page' }),
})

export const Timestamp = z.iso.datetime().or(z.date()).openapi({ type: 'string', format: 'date-time' })
/** Timestamp.nullable() would keep Timestamp's `type: string` in the document and lose the null. */
export const NullableTimestamp = Timestamp.nullable().openapi({ type: ['string', 'null'], format: 'date-time' })

export const pageSchema = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), next_cursor: z.string().nullable().openapi({ description: 'null on the last page' }) })

export const ProblemSchema = z
  .object({
    type: z.string().openapi({ description: 'urn:edp:problem:<code>' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    scope: z.string().optional().openapi({ description: '403: the scope the API key lacks' }),
    content_state: z.enum(['expired', 'erased']).optional().openapi({ description: '410 on a message: its content expired, or was erased' }),
    expired_at: z.string().nullable().optional().openapi({ description: '410 on a message: when its content expired' }),
  })
  .openapi('Problem', { description: 'RFC 9457 problem details; every error answer has this body' })

const retryAfter = { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' as const } } }

/**
 * Every status the app answers with a problem: what it means, and the body it comes with (built
 * by problem.ts, as the app builds it). Routes pick theirs through the helpers below.
 */
const PROBLEMS = {
  400: { code: 'bad_request', says: 'The body is not well-formed JSON', detail: 'Malformed JSON in request body' },
  401: {
    code: 'unauthorized',
    says: 'No bearer token, or one not valid here: an unknown, revoked or expired API key on tenant routes, anything but an admin token on operator routes',
    detail: 'unknown, revoked or expired API key',
  },
  403: {
    code: 'forbidden',
    says: 'The API key lacks the scope this route needs (`scope` names it), or its tenant is suspended',
    detail: 'this API key lacks the messages:write scope',
    errors: [{ field: 'scope', message: 'needs messages:write' }],
    extra: { scope: 'messages:write' },
  },
  404: {
    code: 'not_found',
    says: 'Not found; another tenant’s ids answer the same. For an id named in the body, errors[] names the field',
    detail: 'campaign not found',
  },
  409: {
    code: 'conflict',
    says:
      'Conflicts with what is stored; errors[] names the field. On a POST with an Idempotency-Key: a request with that key ' +
      'is still running (retry after Retry-After), or it succeeded with an answer too large to keep',
    detail: 'this tenant already has that email address',
    errors: [{ field: 'email_address', message: 'already exists' }],
    headers: retryAfter,
  },
  410: {
    code: 'gone',
    says: 'The content expired under the retention policy, or was erased at the request of the person it named (the record stays and says so)',
    detail: 'the content of this message expired under the retention policy',
    extra: { content_state: 'expired', expired_at: '2028-03-02T08:00:12.348Z' },
  },
  413: { code: 'payload_too_large', says: 'The body is larger than MAX_BODY_BYTES (INBOUND_MAX_BYTES for raw mail)', detail: 'request body exceeds 26214400 bytes' },
  415: {
    code: 'unsupported_media_type',
    says: 'The Content-Type is not the one this route takes (application/json; message/rfc822 for raw mail)',
    detail: 'Unsupported Media Type',
  },
  422: {
    code: 'validation_failed',
    says: 'Validation failed; errors[] names each field (nothing was written)',
    detail: 'invalid body: email',
    errors: [{ field: 'email', message: 'Invalid email address' }],
  },
  429: {
    code: 'rate_limited',
    says: 'The API key is over its rate limit; Retry-After says when to try again',
    detail: 'this API key is over its limit of 100 requests/s; retry after 1 s',
    headers: retryAfter,
  },
  500: {
    code: 'internal',
    says: 'A fault on our side, logged with its cause; the detail quotes the request id and nothing else',
    detail: `something went wrong; quote request id ${REQUEST_ID}`,
  },
  503: {
    code: 'service_unavailable',
    says:
      'Too many large uploads in progress (a body over LARGE_BODY_BYTES, or chunked, waits for one of MAX_CONCURRENT_LARGE_BODIES slots); retry after Retry-After. ' +
      'On a content read or write: "content key unavailable" (the master key is missing or wrong, or the tenant was deleted); the server log names which',
    detail: 'too many large uploads in progress; retry in a second',
    headers: retryAfter,
  },
} as const satisfies Record<
  number,
  { code: ErrorCode; says: string; detail: string; errors?: FieldError[]; extra?: Record<string, unknown>; headers?: object }
>

export type ProblemStatus = keyof typeof PROBLEMS

/** The component each status is documented once as: not_found → NotFound. */
const componentName = (status: ProblemStatus) => PROBLEMS[status].code.replace(/(^|_)(\w)/g, (_, __, c: string) => c.toUpperCase())

function problemResponse(status: ProblemStatus) {
  const p: (typeof PROBLEMS)[ProblemStatus] = PROBLEMS[status]
  const example = problemBody(new AppError(p.code, p.detail, 'errors' in p ? [...p.errors] : undefined, 'extra' in p ? p.extra : undefined), REQUEST_ID)
  return {
    description: p.says,
    ...('headers' in p ? { headers: p.headers } : {}),
    content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' }, example } },
  }
}

/** Every problem response as a named component, for the document to hold once (openapi.ts registers them). */
export const problemComponents = () => (Object.keys(PROBLEMS).map(Number) as ProblemStatus[]).map((s) => [componentName(s), problemResponse(s)] as const)

/** References to the problem responses for the statuses given, for a route's `responses`. */
export function problems<S extends ProblemStatus>(...statuses: S[]): Record<S, { $ref: string }> {
  return Object.fromEntries(statuses.map((s) => [s, { $ref: `#/components/responses/${componentName(s)}` }])) as Record<S, { $ref: string }>
}

/** A JSON body can be malformed (400), too large (413), not JSON (415), invalid (422), or wait for a large-upload slot (503). */
export const JSON_BODY = [400, 413, 415, 422, 503] as const

/** Tenant routes: a bad key (401), a key without the scope (403), over its rate limit (429), a fault (500); then the route's own. */
export const tenantErrors = <S extends ProblemStatus>(...own: S[]) => problems<401 | 403 | 429 | 500 | S>(401, 403, 429, 500, ...own)

/** Operator routes: no admin token (401), a fault (500); then the route's own. */
export const adminErrors = <S extends ProblemStatus>(...own: S[]) => problems<401 | 500 | S>(401, 500, ...own)

/** Tenant routes take an API key, operator routes an admin token, both as bearer tokens (app.ts registers the schemes). */
export const apiKey = [{ apiKey: [] }]
export const adminToken = [{ adminToken: [] }]

export const jsonBody = <T extends z.ZodType>(schema: T, example: unknown) => ({
  required: true,
  content: { 'application/json': { schema, example } },
})

export const json = <T extends z.ZodType>(description: string, schema: T, example?: unknown) => ({
  description,
  content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
})
