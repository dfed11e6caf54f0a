import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createTransactionalEmail, listTransactional, readTransactionalEmail } from '../../services/transactional.ts'
import { CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import { commonErrors, Email, headerText, IdParam, json, jsonBody, PageQuery, pageSchema, security, Timestamp, Uuid } from '../schemas.ts'
import { HeadersInput, MessageContent, normaliseHeaders } from '../message-schemas.ts'

const CreateTransactional = z.object({
  to_email: Email,
  from_email: Email,
  subject: headerText(z.string().max(500)),
  template_key: z.string().trim().min(1).max(100).nullish(),
  content_text: z.string().nullish(),
  content_html: z.string().nullish(),
  headers: HeadersInput.optional(),
})

const TransactionalEmail = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    to_email: z.string(),
    from_email: z.string(),
    subject: z.string(),
    template_key: z.string().nullable(),
    content_storage_key: z.string().nullable(),
    status: z.string(),
    created: Timestamp,
    expires: Timestamp.nullable(),
  })
  .openapi('TransactionalEmail')

export function transactionalEmailRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['content'],
        summary: 'Store a transactional email (receipt, reset link…)',
        security,
        request: { body: jsonBody(CreateTransactional) },
        responses: { 201: json('The stored email', TransactionalEmail), ...commonErrors },
      }),
      async (c) => {
        const body = c.req.valid('json')
        const row = await createTransactionalEmail(deps, c.get('tenantId'), { ...body, headers: normaliseHeaders(body.headers) })
        return c.json(row, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['content'],
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page, newest first (metadata only)', pageSchema(TransactionalEmail)), ...commonErrors },
      }),
      async (c) => c.json(await listTransactional(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['content'],
        security,
        request: { params: IdParam },
        responses: {
          200: json('The email with its content (null once expired)', TransactionalEmail.extend({ content: MessageContent.nullable() })),
          ...commonErrors,
        },
      }),
      async (c) => c.json(await readTransactionalEmail(deps, c.get('tenantId'), c.req.valid('param').id), 200, CONTENT_SECURITY_HEADERS),
    )
}
