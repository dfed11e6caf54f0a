import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createEmailAccount, listEmailAccounts } from '../../services/email-accounts.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, headerText, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const CreateEmailAccount = z.object({
  email_address: Email,
  display_name: headerText(z.string().trim().min(1).max(200)).nullish(),
})

const EmailAccount = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    email_address: z.string(),
    display_name: z.string().nullable(),
    status: z.string(),
    created: Timestamp,
    updated: Timestamp,
  })
  .openapi('EmailAccount')

export function emailAccountRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['email accounts'],
        operationId: 'createEmailAccount',
        summary: 'Add a mailbox',
        description: 'Scope campaigns:write. An address is unique per tenant, compared case-insensitively (409).',
        security: apiKey,
        request: { body: jsonBody(CreateEmailAccount, { email_address: ex.emailAccount.email_address, display_name: ex.emailAccount.display_name }) },
        responses: {
          201: json('The mailbox', EmailAccount, ex.emailAccount),
          ...tenantErrors(...JSON_BODY, 409),
        },
      }),
      async (c) => c.json(await createEmailAccount(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['email accounts'],
        operationId: 'listEmailAccounts',
        summary: 'List mailboxes, newest first',
        description: 'Scope campaigns:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery },
        responses: { 200: json('A page of mailboxes', pageSchema(EmailAccount), { data: [ex.emailAccount], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => c.json(await listEmailAccounts(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
}
