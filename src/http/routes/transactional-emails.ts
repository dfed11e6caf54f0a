import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createTransactionalEmail, listTransactional, readTransactionalEmail } from '../../services/transactional.ts'
import { CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, headerText, idParam, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'
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
    expires: NullableTimestamp,
  })
  .openapi('TransactionalEmail')

export function transactionalEmailRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['content'],
        operationId: 'createTransactionalEmail',
        summary: 'Store a transactional email (receipt, reset link…)',
        description: 'Scope messages:write. Record and body are written together in the content tier; expires follows the retention policy.',
        security: apiKey,
        request: {
          body: jsonBody(CreateTransactional, {
            to_email: ex.transactional.to_email,
            from_email: ex.transactional.from_email,
            subject: ex.transactional.subject,
            template_key: ex.transactional.template_key,
            content_text: 'Use this link within 30 minutes to choose a new password: https://app.acme.example/reset/9f2c1e',
          }),
        },
        responses: { 201: json('The stored email', TransactionalEmail, ex.transactional), ...tenantErrors(...JSON_BODY) },
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
        operationId: 'listTransactionalEmails',
        summary: 'List transactional emails, newest first (metadata only)',
        description: 'Scope messages:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery },
        responses: { 200: json('A page, newest first (metadata only)', pageSchema(TransactionalEmail), { data: [ex.transactional], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => c.json(await listTransactional(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['content'],
        operationId: 'getTransactionalEmail',
        summary: 'A transactional email with its content',
        description: 'Scope messages:read. Once retention expired the body, content is null (no 410: the record is what is asked for).',
        security: apiKey,
        request: { params: idParam(ex.ID.transactional) },
        responses: {
          200: json('The email with its content (null once expired)', TransactionalEmail.extend({ content: MessageContent.nullable() }), {
            ...ex.transactional,
            content: { content_text: 'Use this link within 30 minutes to choose a new password: https://app.acme.example/reset/9f2c1e', content_html: null, headers: [] },
          }),
          ...tenantErrors(404, 422, 503),
        },
      }),
      async (c) => c.json(await readTransactionalEmail(deps, c.get('tenantId'), c.req.valid('param').id), 200, CONTENT_SECURITY_HEADERS),
    )
}
