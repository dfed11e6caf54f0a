import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { BOUNCE_REASONS, ingestInbound, type Bounce, type Classification as Classified } from '../../services/inbound.ts'
import { router } from '../env.ts'
import { AppError } from '../../errors.ts'
import * as ex from '../examples.ts'
import { apiKey, json, tenantErrors, Uuid } from '../schemas.ts'
import { MessageRef } from '../message-schemas.ts'

const Failed = z.object({
  recipient: z.string().nullable(),
  status: z.string().nullable(),
  reason: z.enum(BOUNCE_REASONS),
  kind: z.enum(['hard', 'soft']),
})

const Report = Failed.extend({
  original_message_id: z.string().nullable(),
  recipients: z.array(Failed),
})

const Classification = z.object({
  type: z.enum(['email', 'auto_reply', 'bounce', 'complaint', 'delivery_delay', 'delivery_report']),
  /** A bounce's failed recipients; kind hard only when the address is dead (README, "Inbound mail"). */
  bounce: Report.optional(),
  /** A delay (the MTA still trying) or a success report: never a bounce. */
  delivery: Report.optional(),
  complaint: z
    .object({ recipient: z.string().nullable(), feedback_type: z.string(), original_message_id: z.string().nullable() })
    .optional(),
})

const report = (b: Bounce) => ({
  recipient: b.recipient,
  status: b.status,
  reason: b.reason,
  kind: b.kind,
  original_message_id: b.originalMessageId,
  recipients: b.recipients,
})

/** The answer's view of a classification. */
function classificationBody(c: Classified) {
  if (c.type === 'bounce') return { type: c.type, bounce: report(c.bounce) }
  if (c.type === 'delivery_delay' || c.type === 'delivery_report') return { type: c.type, delivery: report(c.bounce) }
  if (c.type === 'complaint') {
    const { recipient, feedbackType, originalMessageId } = c.complaint
    return { type: c.type, complaint: { recipient, feedback_type: feedbackType, original_message_id: originalMessageId } }
  }
  return { type: c.type }
}

const Stored = MessageRef.extend({ classification: Classification }).openapi('InboundMessage')

export function inboundRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'post',
      path: '/',
      tags: ['messages'],
      operationId: 'receiveInboundMessage',
      summary: 'Store a received message (raw RFC 5322): classified, threaded, counted',
      description:
        'Scope inbound:write. The mailbox is the recipient among your email accounts, or ?email_account_id= (404 when not ' +
        'yours; 422 when no recipient is one of your mailboxes). A message whose Message-ID you already stored answers 200 ' +
        'with the stored ref and writes nothing.',
      security: apiKey,
      request: {
        query: z.object({ email_account_id: Uuid.optional() }),
        body: { required: true, content: { 'message/rfc822': { schema: z.string(), example: ex.rawReply } } },
      },
      responses: {
        201: json('Stored', Stored, ex.inboundStored),
        200: json('Already stored (same Message-ID)', Stored, ex.inboundStored),
        // Raw mail is not parsed as JSON, so no 400.
        ...tenantErrors(404, 413, 415, 422, 503),
      },
    }),
    async (c) => {
      if (!/^message\/rfc822\b/i.test(c.req.header('content-type') ?? '')) {
        throw new AppError('unsupported_media_type', 'send the raw message with Content-Type: message/rfc822')
      }
      const raw = new Uint8Array(await c.req.arrayBuffer())
      const { ref, classification, created } = await ingestInbound(deps, c.get('tenantId'), raw, {
        emailAccountId: c.req.valid('query').email_account_id,
      })
      return c.json({ ...ref, classification: classificationBody(classification) }, created ? 201 : 200)
    },
  )
}
