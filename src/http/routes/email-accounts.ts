import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import {
  createEmailAccount,
  deleteEmailAccount,
  EMAIL_ACCOUNT_STATUSES,
  getEmailAccount,
  listEmailAccounts,
  updateEmailAccount,
} from '../../services/email-accounts.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, Email, headerText, idParam, json, JSON_BODY, jsonBody, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

const DisplayName = headerText(z.string().trim().min(1).max(200)).nullish()
const CreateEmailAccount = z.object({ email_address: Email, display_name: DisplayName })

/** Strict: the address cannot change (a new address is a new mailbox), and an unknown field is a 422, not ignored. */
const UpdateEmailAccount = z.strictObject({
  display_name: DisplayName.openapi({ description: 'null clears it' }),
  status: z.enum(EMAIL_ACCOUNT_STATUSES).optional(),
})
const AccountId = idParam(ex.ID.emailAccount)

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
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['email accounts'],
        operationId: 'getEmailAccount',
        summary: 'A mailbox',
        description: 'Scope campaigns:read.',
        security: apiKey,
        request: { params: AccountId },
        responses: { 200: json('The mailbox', EmailAccount, ex.emailAccount), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await getEmailAccount(deps, c.get('tenantId'), c.req.valid('param').id), 200),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}',
        tags: ['email accounts'],
        operationId: 'updateEmailAccount',
        summary: 'Rename a mailbox, or pause or archive it',
        description:
          'Scope campaigns:write. A field left out keeps its value. The address cannot change: add a new mailbox. ' +
          'Status active, paused (not to send from for now) or archived (retired; its messages stay).',
        security: apiKey,
        request: { params: AccountId, body: jsonBody(UpdateEmailAccount, { status: 'paused' }) },
        responses: { 200: json('The mailbox', EmailAccount, ex.pausedEmailAccount), ...tenantErrors(...JSON_BODY, 404) },
      }),
      async (c) => c.json(await updateEmailAccount(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json')), 200),
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['email accounts'],
        operationId: 'deleteEmailAccount',
        summary: 'Delete a mailbox no message names',
        description:
          'Scope campaigns:write. A mailbox with messages is kept with them (409): archive it instead ' +
          '(PATCH status archived), so its messages and analytics stay whole.',
        security: apiKey,
        request: { params: AccountId },
        responses: { 204: { description: 'Deleted' }, ...tenantErrors(404, 409, 422) },
      }),
      async (c) => {
        await deleteEmailAccount(deps, c.get('tenantId'), c.req.valid('param').id)
        return c.body(null, 204)
      },
    )
}
