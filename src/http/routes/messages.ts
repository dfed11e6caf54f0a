import { createRoute, z } from '@hono/zod-openapi'
import type { Deps } from '../../deps.ts'
import { sha256Hex } from '../../ids.ts'
import {
  createMessage,
  getMessage,
  getMessageAttachment,
  getMessageContent,
  getMessageThread,
  listMessages,
} from '../../services/messages.ts'
import { attachmentHeaders, CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import { messageBatchRoutes } from './message-batch.ts'
import * as ex from '../examples.ts'
import { apiKey, json, JSON_BODY, jsonBody, pageSchema, tenantErrors } from '../schemas.ts'
import {
  AttachmentParams,
  CreateMessage,
  decodeAttachments,
  ListMessagesQuery,
  MessageContent,
  MessageDetail,
  MessageParams,
  MessageRef,
  normaliseHeaders,
} from '../message-schemas.ts'

const IfNoneMatch = z.object({ 'if-none-match': z.string().optional().openapi({ example: '"3f9a0c2e7b1d4a6f8e5c2b9d7a1f0e3c"' }) })

export function messageRoutes(deps: Deps) {
  return router()
    .route('/', messageBatchRoutes(deps))
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['messages'],
        operationId: 'createMessage',
        summary: 'Store a message: content in the content tier, the ref in OLTP',
        description:
          'Scope messages:write. Body, headers and base64 attachments go to the content tier first, then the ref and its ' +
          'message.created event commit together. Every id named (mailbox, campaign, step, lead, parent) must be yours (404 ' +
          'naming the field); a sequence_step_id fills in its campaign. An inbound message whose rfc822_message_id is already ' +
          'stored answers 409.',
        security: apiKey,
        request: { body: jsonBody(CreateMessage, ex.createMessage) },
        responses: { 201: json('The stored ref', MessageRef, ex.messageRef), ...tenantErrors(...JSON_BODY, 404, 409) },
      }),
      async (c) => {
        const body = c.req.valid('json')
        const ref = await createMessage(deps, c.get('tenantId'), {
          ...body,
          headers: normaliseHeaders(body.headers),
          attachments: decodeAttachments(body.attachments),
        })
        return c.json(ref, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['messages'],
        operationId: 'listMessages',
        summary: 'List message refs (metadata only), newest first',
        description: 'Scope messages:read. Filters combine; an id that is not yours simply matches nothing. Keyset pagination: pass next_cursor back as cursor.',
        security: apiKey,
        request: { query: ListMessagesQuery },
        responses: { 200: json('A page of refs', pageSchema(MessageRef), { data: [ex.reply, ex.messageRef], next_cursor: null }), ...tenantErrors(422) },
      }),
      async (c) => {
        const q = c.req.valid('query')
        const filter = { emailAccountId: q.email_account_id, campaignId: q.campaign_id, leadId: q.lead_id, direction: q.direction }
        return c.json(await listMessages(deps, c.get('tenantId'), filter, q), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}',
        tags: ['messages'],
        operationId: 'getMessage',
        summary: 'The ref with its content and attachment list',
        description: 'Scope messages:read. Once retention expired the content, 410 with expired_at (the ref itself stays listed).',
        security: apiKey,
        request: { params: MessageParams },
        responses: { 200: json('The message', MessageDetail, ex.messageDetail), ...tenantErrors(404, 410, 422, 503) },
      }),
      async (c) => {
        const message = await getMessage(deps, c.get('tenantId'), c.req.valid('param').id)
        return c.json(message as z.infer<typeof MessageDetail>, 200, CONTENT_SECURITY_HEADERS)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/content',
        tags: ['messages'],
        operationId: 'getMessageContent',
        summary: 'The body and headers; cacheable with a strong ETag',
        description: 'Scope messages:read. Send the ETag back as If-None-Match to get 304 without the body.',
        security: apiKey,
        request: { params: MessageParams, headers: IfNoneMatch },
        responses: {
          200: { ...json('The content', MessageContent, ex.messageContent), headers: { ETag: { description: 'Strong validator of this content', schema: { type: 'string' } } } },
          304: { description: 'Not modified (If-None-Match matched)' },
          ...tenantErrors(404, 410, 422, 503),
        },
      }),
      async (c) => {
        const body = JSON.stringify(await getMessageContent(deps, c.get('tenantId'), c.req.valid('param').id))
        const etag = `"${sha256Hex(body).slice(0, 32)}"`
        const headers = { etag, 'cache-control': 'private, max-age=3600', ...CONTENT_SECURITY_HEADERS }
        const match = c.req.header('if-none-match')
        if (match && match.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
          return c.body(null, 304, headers)
        }
        return c.body(body, 200, { ...headers, 'content-type': 'application/json' })
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/attachments/{attachment_id}',
        tags: ['messages'],
        operationId: 'getMessageAttachment',
        summary: 'An attachment’s bytes, with its MIME type',
        description:
          'Scope messages:read. Content-Disposition: attachment, unless it was stored inline and its type is an inert image or text/plain. ' +
          '410 once retention expired the message’s content or the attachment’s bytes.',
        security: apiKey,
        request: { params: AttachmentParams },
        responses: {
          200: { description: 'The bytes, with the MIME type they were stored with', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
          ...tenantErrors(404, 410, 422, 503),
        },
      }),
      async (c) => {
        const { id, attachment_id } = c.req.valid('param')
        const a = await getMessageAttachment(deps, c.get('tenantId'), id, attachment_id)
        return c.body(a.content as Uint8Array<ArrayBuffer>, 200, {
          ...attachmentHeaders(a),
          'cache-control': 'private, max-age=86400, immutable',
        })
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{id}/thread',
        tags: ['messages'],
        operationId: 'getMessageThread',
        summary: 'The whole conversation this message belongs to, oldest first',
        description: 'Scope messages:read. Works from any message of the thread.',
        security: apiKey,
        request: { params: MessageParams },
        responses: { 200: json('The thread', z.object({ data: z.array(MessageRef) }), { data: [ex.messageRef, ex.reply] }), ...tenantErrors(404, 422) },
      }),
      async (c) => c.json({ data: await getMessageThread(deps, c.get('tenantId'), c.req.valid('param').id) }, 200),
    )
}
