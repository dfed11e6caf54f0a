import { z } from '@hono/zod-openapi'
import { Email, headerText, idParam, NullableTimestamp, PageQuery, Timestamp, Uuid } from './schemas.ts'
import { ID } from './examples.ts'
import type { HeaderField } from '../services/messages.ts'
import { isMimeType, MAX_MIME_TYPE_LENGTH } from '../content-safety.ts'
import { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, MAX_HEADERS } from '../limits.ts'
import { base64Problem, decodeBase64 } from './base64.ts'
import { CONTENT_STATES } from '../tiers/oltp/schema.ts'

const HeaderName = z.string().regex(/^[!-9;-~]{1,100}$/, 'a header name is 1-100 printable characters without ":"')
const HeaderValue = headerText(z.string().max(16_384))

/**
 * Either { name: value | [values] } or [{ name, value }] (the latter keeps order and duplicates).
 * The write path checks the count and total size (src/limits.ts) of both forms once flattened.
 */
export const HeadersInput = z.union([
  z.array(z.object({ name: HeaderName, value: HeaderValue })).max(MAX_HEADERS),
  z.record(HeaderName, z.union([HeaderValue, z.array(HeaderValue).max(50)])),
])

export function normaliseHeaders(input: z.infer<typeof HeadersInput> | undefined): HeaderField[] {
  if (!input) return []
  if (Array.isArray(input)) return input
  return Object.entries(input).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ name, value })))
}

/** Checked by a linear scan (./base64.ts), never a regex over the whole value. */
const Base64 = z.string().superRefine((s, ctx) => {
  const problem = base64Problem(s, MAX_ATTACHMENT_BYTES)
  if (problem) ctx.addIssue({ code: 'custom', message: problem })
})

export const AttachmentInput = z.object({
  /** Stored without directory parts, controls or bidi marks (safeFilename in the write path). */
  filename: z.string().trim().min(1).max(255),
  mime_type: z.string().refine(isMimeType, `must be a MIME type like application/pdf (type/subtype, at most ${MAX_MIME_TYPE_LENGTH} characters, no parameters)`),
  content_base64: Base64,
  storage_disposition: z.enum(['attachment', 'inline']).default('attachment'),
})

export const CreateMessage = z
  .object({
    email_account_id: Uuid,
    from_email: Email,
    to_email: Email,
    subject: headerText(z.string().max(500)),
    content_text: z.string().nullish(),
    content_html: z.string().nullish(),
    headers: HeadersInput.optional(),
    direction: z.enum(['outbound', 'inbound']).default('outbound'),
    message_type: z.enum(['email', 'bounce', 'auto_reply']).default('email'),
    status: z.string().trim().min(1).max(50).optional(),
    campaign_id: Uuid.nullish(),
    sequence_step_id: Uuid.nullish(),
    lead_id: Uuid.nullish(),
    parent_message_id: Uuid.nullish(),
    rfc822_message_id: z.string().regex(/^<[^<>\s\p{Cc}]{1,994}>$/u, 'must look like <local@domain>').optional(),
    attachments: z.array(AttachmentInput).max(MAX_ATTACHMENTS).optional(),
    override_suppression: z
      .boolean()
      .optional()
      .openapi({ description: 'Send an outbound message even though its recipient is on the suppression list (422 otherwise).' }),
  })
  .openapi('CreateMessage')

/** The attachments as the write path takes them: bytes, decoded once the schema has checked them. */
export function decodeAttachments(list: z.infer<typeof CreateMessage>['attachments']) {
  return (list ?? []).map((a) => ({
    filename: a.filename,
    mime_type: a.mime_type,
    storage_disposition: a.storage_disposition,
    bytes: decodeBase64(a.content_base64),
  }))
}

export const MessageRef = z
  .object({
    id: Uuid,
    tenant_id: Uuid,
    email_account_id: Uuid,
    campaign_id: Uuid.nullable(),
    sequence_step_id: Uuid.nullable(),
    lead_id: Uuid.nullable(),
    parent_message_id: Uuid.nullable(),
    direction: z.enum(['inbound', 'outbound']),
    message_type: z.enum(['email', 'bounce', 'auto_reply', 'complaint', 'delivery_delay', 'delivery_report']),
    from_email: z.string(),
    to_email: z.string(),
    subject: z.string(),
    status: z.string(),
    processed: NullableTimestamp,
    content_storage_key: z.string(),
    content_state: z.enum(CONTENT_STATES).openapi({ description: 'present; expired under the retention policy, or erased at the request of the person it named (its content answers 410)' }),
    rfc822_message_id: z.string().nullable(),
    created: Timestamp,
    updated: Timestamp,
  })
  .openapi('MessageRef')

export const MessageContent = z
  .object({
    content_text: z.string().nullable(),
    content_html: z.string().nullable(),
    headers: z.array(z.object({ name: z.string(), value: z.string() })),
  })
  .openapi('MessageContent')

export const AttachmentMeta = z.object({
  id: Uuid,
  filename: z.string(),
  mime_type: z.string(),
  size_bytes: z.number().int(),
  storage_disposition: z.string(),
})

export const MessageDetail = MessageRef.extend({ content: MessageContent, attachments: z.array(AttachmentMeta) }).openapi(
  'MessageDetail',
)

export const ListMessagesQuery = PageQuery.extend({
  email_account_id: Uuid.optional(),
  campaign_id: Uuid.optional(),
  lead_id: Uuid.optional(),
  direction: z.enum(['inbound', 'outbound']).optional(),
})

export const MessageParams = idParam(ID.message)
export const AttachmentParams = MessageParams.extend({
  attachment_id: Uuid.openapi({ param: { name: 'attachment_id', in: 'path' }, example: ID.attachment }),
})
