import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { newId } from '../../ids.ts'
import { insertLead, listLeads } from '../../tiers/oltp/leads.ts'
import { toPage } from '../../tiers/oltp/page.ts'
import { router } from '../env.ts'
import { conflict } from '../errors.ts'
import { cursorToId } from '../pagination.ts'
import { commonErrors, Email, json, jsonBody, PageQuery, pageOf, Timestamp, Uuid, security } from '../schemas.ts'

const Name = z.string().trim().min(1).max(100).nullish()
const CreateLead = z.object({ email: Email, first_name: Name, last_name: Name })
const Lead = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    email: z.string(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    status: z.string(),
    created: Timestamp,
    updated: Timestamp,
  })
  .openapi('Lead')

export function leadRoutes(deps: Deps) {
  const oltp = deps.tiers.oltp
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['leads'],
        security,
        request: { body: jsonBody(CreateLead) },
        responses: { 201: json('The lead', Lead), ...commonErrors },
      }),
      async (c) => {
        const body = c.req.valid('json')
        const row = await insertLead(oltp, {
          tenantId: c.get('tenantId'),
          id: newId(),
          email: body.email,
          firstName: body.first_name ?? null,
          lastName: body.last_name ?? null,
        })
        if (!row) throw conflict('this tenant already has a lead with that email', 'email')
        return c.json(row, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['leads'],
        summary: 'List leads, newest first; ?email= finds one by address',
        security,
        request: { query: PageQuery.extend({ email: Email.optional() }) },
        responses: { 200: json('A page of leads', pageOf(Lead)), ...commonErrors },
      }),
      async (c) => {
        const { limit, cursor, email } = c.req.valid('query')
        return c.json(toPage(await listLeads(oltp, c.get('tenantId'), limit, cursorToId(cursor), email), limit), 200)
      },
    )
}
