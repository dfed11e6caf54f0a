/** zod pieces several routes share; each route keeps its own request and response schemas. */
import { z } from '@hono/zod-openapi'
import { HEADER_SAFE } from '../content-safety.ts'

export const Uuid = z.uuid().openapi({ example: '01936f3e-8a2b-7c4d-9e1f-123456789abc' })

export const IdParam = z.object({ id: Uuid.openapi({ param: { name: 'id', in: 'path' } }) })

export const Email = z.email().max(254)

/**
 * Text that ends up in a mail header (subject, header value, display name): a CR or LF would let
 * it forge headers, so control characters are refused; TAB is allowed, as in any header text.
 */
export const headerText = <T extends z.ZodString>(s: T) =>
  s.regex(HEADER_SAFE, 'must not contain control characters (CR, LF, …) or line separators; TAB is allowed')

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(200).optional(),
})

export const Timestamp = z.iso.datetime().or(z.date()).openapi({ type: 'string', format: 'date-time' })

export const pageSchema = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), next_cursor: z.string().nullable() })

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    request_id: z.string(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem')

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: ProblemSchema } },
})

/** The error responses most tenant routes can give, for the OpenAPI document. */
export const commonErrors = {
  401: problem('Missing, unknown, revoked or expired API key'),
  403: problem('The API key lacks the scope this route needs; `scope` names it'),
  404: problem('Not found (also for another tenant’s ids)'),
  409: problem('Conflicts with an existing row; errors[] names the field'),
  422: problem('Validation failed; errors[] names each field'),
  429: problem('The API key is over its rate limit; Retry-After says when to try again'),
} as const

/** Tenant routes take the API key as a bearer token. */
export const security = [{ bearer: [] }]

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

export const json = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
})
