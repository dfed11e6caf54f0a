import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { AppError } from '../../errors.ts'
import { createMessages, MAX_BATCH_MESSAGES, type BatchOutcome } from '../../services/message-batch.ts'
import type { CreateMessageInput } from '../../services/messages.ts'
import { router, fieldErrors } from '../env.ts'
import * as ex from '../examples.ts'
import { CreateMessage, decodeAttachments, normaliseHeaders } from '../message-schemas.ts'
import { statusOf } from '../problem.ts'
import { apiKey, json, JSON_BODY, jsonBody, tenantErrors } from '../schemas.ts'

/**
 * Items are checked one by one (a bad item fails alone), so the envelope takes any objects; the
 * documented item is CreateMessage.
 */
const MessageBatch = z
  .object({
    messages: z
      .array(z.record(z.string(), z.unknown()).openapi({ allOf: [{ $ref: '#/components/schemas/CreateMessage' }] }))
      .min(1)
      .max(MAX_BATCH_MESSAGES),
  })
  .openapi('MessageBatch')

const ItemResult = z
  .object({
    index: z.number().int().openapi({ description: 'Position of the item in `messages`' }),
    status: z.number().int().openapi({ description: '201 stored; else the status the item would have had on POST /v1/messages (404, 409, 422, 500)' }),
    id: z.string().optional().openapi({ description: 'The stored message’s id (201)' }),
    type: z.string().optional(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .openapi('MessageBatchItem')

const BatchResult = z
  .object({ created: z.number().int(), failed: z.number().int(), results: z.array(ItemResult) })
  .openapi('MessageBatchResult')

/** The item as the single-message route takes it, or the problem that refuses it. */
function parseItem(item: unknown): CreateMessageInput | AppError {
  const parsed = CreateMessage.safeParse(item)
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error)
    return new AppError('validation_failed', `invalid message: ${errors.map((e) => e.field).join(', ')}`, errors)
  }
  const body = parsed.data
  return { ...body, headers: normaliseHeaders(body.headers), attachments: decodeAttachments(body.attachments) }
}

function itemResult(o: BatchOutcome, index: number, requestId: string): z.infer<typeof ItemResult> {
  if (o.ok) return { index, status: 201, id: o.ref.id }
  if (o.error instanceof AppError) {
    const { code, detail, errors } = o.error
    return { index, status: statusOf(code), type: `urn:edp:problem:${code}`, detail, ...(errors ? { errors } : {}) }
  }
  return { index, status: 500, type: 'urn:edp:problem:internal', detail: `this message was not stored; send it again (request id ${requestId})` }
}

export function messageBatchRoutes(deps: Deps) {
  return router().openapi(
    createRoute({
      method: 'post',
      path: '/batch',
      tags: ['messages'],
      operationId: 'createMessages',
      summary: `Store up to ${MAX_BATCH_MESSAGES} messages in one request, each answered on its own`,
      description:
        'Scope messages:write. Each item is a CreateMessage, checked and stored as POST /v1/messages would (same caps, ' +
        'same references, same write order); an item that fails (422 naming its fields, 404 for an id that is not yours, ' +
        '409 for a duplicate inbound Message-ID, 500 for a fault) fails alone and the others are stored. The answer is 200 ' +
        'with one result per item, in order. With an Idempotency-Key the whole answer is kept and replayed: send failed ' +
        'items again in a new request with a new key.',
      security: apiKey,
      request: { body: jsonBody(MessageBatch, ex.messageBatch) },
      responses: { 200: json('One result per item, in order', BatchResult, ex.messageBatchResult), ...tenantErrors(...JSON_BODY) },
    }),
    async (c) => {
      const items = c.req.valid('json').messages.map(parseItem)
      const outcomes = await createMessages(deps, c.get('tenantId'), items)
      for (const [index, o] of outcomes.entries()) {
        if (!o.ok && !(o.error instanceof AppError)) c.get('log').error({ err: o.error, index }, 'a batch item was not stored')
      }
      const results = outcomes.map((o, i) => itemResult(o, i, c.get('requestId')))
      const created = results.filter((r) => r.status === 201).length
      return c.json({ created, failed: results.length - created, results }, 200)
    },
  )
}
