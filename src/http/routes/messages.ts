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
import { decodeBase64 } from '../base64.ts'
import { attachmentHeaders, CONTENT_SECURITY_HEADERS } from '../content-headers.ts'
import { router } from '../env.ts'
import { commonErrors, json, jsonBody, pageSchema, security } from '../schemas.ts'
import {
  AttachmentParams,
  CreateMessage,
  ListMessagesQuery,
  MessageContent,
  MessageDetail,
  MessageParams,
  MessageRef,
  normaliseHeaders,
} from '../message-schemas.ts'

const gone = { description: 'The content expired under the retention policy' }

function decodeAttachments(list: z.infer<typeof CreateMessage>['attachments']) {
  return (list ?? []).map((a) => ({
    filename: a.filename,
    mime_type: a.mime_type,
    storage_disposition: a.storage_disposition,
    bytes: decodeBase64(a.content_base64),
  }))
}

export function messageRoutes(deps: Deps) {
  return router()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['messages'],
        summary: 'Store a message: content in the content tier, the ref in OLTP',
        security,
        request: { body: jsonBody(CreateMessage) },
        responses: { 201: json('The stored ref', MessageRef), ...commonErrors, 413: { description: 'Body too large' } },
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
        summary: 'List message refs (metadata only), newest first',
        security,
        request: { query: ListMessagesQuery },
        responses: { 200: json('A page of refs', pageSchema(MessageRef)), ...commonErrors },
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
        summary: 'The ref with its content and attachment list',
        security,
        request: { params: MessageParams },
        responses: { 200: json('The message', MessageDetail), ...commonErrors, 410: gone },
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
        summary: 'The body and headers; cacheable with a strong ETag',
        security,
        request: { params: MessageParams },
        responses: {
          200: json('The content', MessageContent),
          304: { description: 'Not modified (If-None-Match matched)' },
          ...commonErrors,
          410: gone,
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
        summary: 'An attachment’s bytes, with its MIME type',
        security,
        request: { params: AttachmentParams },
        responses: { 200: { description: 'The bytes' }, ...commonErrors, 410: gone },
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
        summary: 'The whole conversation this message belongs to, oldest first',
        security,
        request: { params: MessageParams },
        responses: { 200: json('The thread', z.object({ data: z.array(MessageRef) })), ...commonErrors },
      }),
      async (c) => c.json({ data: await getMessageThread(deps, c.get('tenantId'), c.req.valid('param').id) }, 200),
    )
}
