import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { newId } from '../../ids.ts'
import { insertEmailAccount, listEmailAccounts } from '../../tiers/oltp/email-accounts.ts'
import { toPage } from '../../tiers/oltp/page.ts'
import { router } from '../env.ts'
import { conflict } from '../errors.ts'
import { cursorToId } from '../pagination.ts'
import { commonErrors, Email, json, jsonBody, PageQuery, pageOf, Timestamp, Uuid, security } from '../schemas.ts'

const CreateEmailAccount = z.object({
  email_address: Email,
  display_name: z.string().trim().min(1).max(200).nullish(),
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
      async (c) => {
        const body = c.req.valid('json')
        const row = await insertEmailAccount(deps.tiers.oltp, {
          tenantId: c.get('tenantId'),
          id: newId(),
          emailAddress: body.email_address,
          displayName: body.display_name ?? null,
        })
        if (!row) throw conflict('this tenant already has that email address', 'email_address')
        return c.json(row, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['email accounts'],
        summary: 'List mailboxes, newest first',
        security,
        request: { query: PageQuery },
        responses: { 200: json('A page of mailboxes', pageOf(EmailAccount)), ...commonErrors },
      }),
      async (c) => {
        const { limit, cursor } = c.req.valid('query')
        const rows = await listEmailAccounts(deps.tiers.oltp, c.get('tenantId'), limit, cursorToId(cursor))
        return c.json(toPage(rows, limit), 200)
      },
    )
}
