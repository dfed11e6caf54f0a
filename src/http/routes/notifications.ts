import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createNotification, listNotifications } from '../../services/notifications.ts'
import { CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import { commonErrors, headerText, json, jsonBody, PageQuery, pageSchema, security, Timestamp, Uuid } from '../schemas.ts'

const CreateNotification = z.object({
  /** The subject when the channel is email. */
  title: headerText(z.string().trim().min(1).max(200)),
  body: z.string().max(100_000).nullish(),
  user_id: Uuid.nullish(),
  channel: z.enum(['in_app', 'email', 'webhook']).default('in_app'),
  data: z.record(z.string(), z.unknown()).nullish(),
})

const Notification = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid.nullable(),
    channel: z.string(),
    title: z.string(),
    body: z.string().nullable(),
    data: z.unknown(),
    read_at: Timestamp.nullable(),
    created: Timestamp,
    expires: Timestamp.nullable(),
  })
  .openapi('Notification')

export function notificationRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['content'],
        summary: 'Store a notification for the tenant (or one of its users)',
        security,
        request: { body: jsonBody(CreateNotification) },
        responses: { 201: json('The notification', Notification), ...commonErrors },
      }),
      async (c) => c.json(await createNotification(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['content'],
        security,
        request: { query: PageQuery.extend({ user_id: Uuid.optional() }) },
        responses: { 200: json('A page, newest first', pageSchema(Notification)), ...commonErrors },
      }),
      async (c) => {
        const { user_id, ...page } = c.req.valid('query')
        return c.json(await listNotifications(deps, c.get('tenantId'), page, user_id), 200, CONTENT_SECURITY_HEADERS)
      },
    )
}
