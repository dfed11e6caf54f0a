import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { createNotification, getNotification, listNotifications, markNotification } from '../../services/notifications.ts'
import { CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, headerText, idParam, json, JSON_BODY, jsonBody, NullableTimestamp, PageQuery, pageSchema, tenantErrors, Timestamp, Uuid } from '../schemas.ts'

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
    read_at: NullableTimestamp,
    created: Timestamp,
    expires: NullableTimestamp,
  })
  .openapi('Notification')

const NotificationId = idParam(ex.ID.notification)
const MarkNotification = z.strictObject({ read: z.boolean().openapi({ description: 'true sets read_at (kept if already read); false clears it' }) })

export function notificationRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['content'],
        operationId: 'createNotification',
        summary: 'Store a notification for the tenant (or one of its users)',
        description: 'Scope messages:write. Kept for the retention policy’s notification days, then deleted.',
        security: apiKey,
        request: {
          body: jsonBody(CreateNotification, {
            title: ex.notification.title,
            body: ex.notification.body,
            user_id: ex.notification.user_id,
            channel: 'in_app',
            data: ex.notification.data,
          }),
        },
        responses: { 201: json('The notification', Notification, ex.notification), ...tenantErrors(...JSON_BODY) },
      }),
      async (c) => c.json(await createNotification(deps, c.get('tenantId'), c.req.valid('json')), 201),
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['content'],
        operationId: 'listNotifications',
        summary: 'List notifications, newest first; ?user_id= filters',
        description: 'Scope messages:read. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: PageQuery.extend({ user_id: Uuid.optional() }) },
        responses: { 200: json('A page, newest first', pageSchema(Notification), { data: [ex.notification], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => {
        const { user_id, ...page } = c.req.valid('query')
        return c.json(await listNotifications(deps, c.get('tenantId'), page, user_id), 200, CONTENT_SECURITY_HEADERS)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['content'],
        operationId: 'getNotification',
        summary: 'A notification',
        description: 'Scope messages:read. Gone (404) once retention deleted it.',
        security: apiKey,
        request: { params: NotificationId },
        responses: { 200: json('The notification', Notification, ex.notification), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json(await getNotification(deps, c.get('tenantId'), c.req.valid('param').id), 200, CONTENT_SECURITY_HEADERS),
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{id}',
        tags: ['content'],
        operationId: 'markNotification',
        summary: 'Mark a notification read or unread',
        description: 'Scope messages:write. Marking it read again keeps the time it was first read.',
        security: apiKey,
        request: { params: NotificationId, body: jsonBody(MarkNotification, { read: true }) },
        responses: { 200: json('The notification', Notification, ex.readNotification), ...tenantErrors(...JSON_BODY, 404) },
      }),
      async (c) => {
        const row = await markNotification(deps, c.get('tenantId'), c.req.valid('param').id, c.req.valid('json').read)
        return c.json(row, 200, CONTENT_SECURITY_HEADERS)
      },
    )
}
