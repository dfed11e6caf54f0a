import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createEmailAccount, listEmailAccounts } from '../../services/email-accounts.ts'
import { router } from '../env.ts'
import { commonErrors, Email, headerText, json, jsonBody, PageQuery, pageSchema, Timestamp, Uuid, security } from '../schemas.ts'

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
        summary: 'Add a mailbox',
        security,
        request: { body: jsonBody(CreateEmailAccount) },
        responses: {
          201: json('The mailbox', EmailAccount),
          ...commonErrors,
        },
      }),
      async (c) => c.json(await createEmailAccount(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['email accounts'],
        summary: 'List mailboxes, newest first',
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page of mailboxes', pageSchema(EmailAccount)), ...commonErrors },
      }),
      async (c) => c.json(await listEmailAccounts(deps, c.get('tenantId'), c.req.valid('query')), 200),
    )
}
