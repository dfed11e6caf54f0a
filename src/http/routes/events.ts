import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { acceptEvents, incomingEventSchema } from '../../services/events.ts'
import { BOUNCE_REASONS } from '../../services/inbound.ts'
import { statusOf } from '../problem.ts'
import { router } from '../env.ts'
import * as ex from '../examples.ts'
import { apiKey, json, JSON_BODY, jsonBody, tenantErrors } from '../schemas.ts'

const EventBatch = z.object({ events: z.array(incomingEventSchema).min(1).max(1000) }).openapi('EventBatch')

const Accepted = z.object({
  accepted: z.array(z.string()),
  rejected: z.array(
    z.object({
      event_id: z.string(),
      status: z.number().int(),
      detail: z.string(),
      field: z.string().optional().openapi({
        description: 'The field at fault (422): occurred_at out of range, an event_id of the reserved form, or a bounce’s metadata.reason outside the vocabulary',
      }),
    }),
  ),
})

export function eventRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['analytics'],
      operationId: 'reportEvents',
      summary: 'Report events (sent, delivered, opened, clicked, replied, bounced…) for your messages',
      description:
        'Up to 1,000 events. Each is counted exactly once however often it is sent (by event_id). ' +
        'An event naming a message that is not yours is rejected with status 404; one that occurred more than ' +
        'EVENT_MAX_AGE_DAYS (400) days ago or more than an hour ahead, or whose event_id has the form ' +
        '<message id>:<event type> (reserved for events the platform records itself), or a bounce whose metadata.reason is ' +
        `not one of ${BOUNCE_REASONS.join(', ')} (the analytics count bounces per reason), ` +
        'with status 422 and the field; the others are accepted. A bounce with neither bounce_type nor ' +
        'metadata.bounce_type is as hard or soft as its metadata.reason says (hard for a dead address: user_unknown, ' +
        'host_unknown, has_moved, not_accepting, and mailbox_disabled unless metadata.status is 4.x.x), and hard ' +
        'without a reason. Scope events:write.',
      security: apiKey,
      request: { body: jsonBody(EventBatch, ex.events) },
      responses: { 202: json('Which events were accepted', Accepted, ex.eventsAccepted), ...tenantErrors(...JSON_BODY) },
    }),
    async (c) => {
      const { accepted, rejected } = await acceptEvents(deps, c.get('tenantId'), c.req.valid('json').events)
      return c.json({ accepted, rejected: rejected.map(({ code, ...r }) => ({ ...r, status: statusOf(code) })) }, 202)
    },
  )
}
