import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { ingestInbound } from '../../services/inbound.ts'
import { router } from '../env.ts'
import { AppError } from '../../errors.ts'
import * as ex from '../examples.ts'
import { apiKey, json, tenantErrors, Uuid } from '../schemas.ts'
import { MessageRef } from '../message-schemas.ts'

const Classification = z.object({
  type: z.enum(['email', 'auto_reply', 'bounce']),
  bounce: z
    .object({
      recipient: z.string().nullable(),
      status: z.string().nullable(),
      kind: z.enum(['hard', 'soft']),
      original_message_id: z.string().nullable(),
    })
    .optional(),
})

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
      const bounce =
        classification.type === 'bounce'
          ? {
              recipient: classification.bounce.recipient,
              status: classification.bounce.status,
              kind: classification.bounce.kind,
              original_message_id: classification.bounce.originalMessageId,
            }
          : undefined
      return c.json({ ...ref, classification: { type: classification.type, bounce } }, created ? 201 : 200)
    },
  )
}
