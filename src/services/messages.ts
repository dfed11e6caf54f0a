/**
 * The message write and read paths: the only place that composes the content and OLTP tiers.
 * Write order: content first, then the ref and its event. A crash in between leaves orphan
 * content (collected later), never a ref without content.
 */
import type { Deps } from '../deps.ts'
import { packBody, unpackBody } from '../content/codec.ts'
import { storageKeyFor } from '../content/keys.ts'
import { messageIds } from '../inbound/parse.ts'
import { expiresAt } from '../content/retention.ts'
import { getPolicy } from '../tiers/content/retention.ts'
import { ApiError, notFound } from '../http/errors.ts'
import { newId, sha256Hex } from '../ids.ts'
import { enqueueWithinOltp } from '../events/publish.ts'
import { insertContentObject, getContentObject, type ContentKind } from '../tiers/content/objects.ts'
import { insertAttachment, listAttachments, getAttachment, type NewAttachment } from '../tiers/content/attachments.ts'
import {
  checkMessageReferences,
  getMessageRef,
  insertMessageRef,
  markBounced,
  type MessageRefRow,
} from '../tiers/oltp/messages.ts'

export interface HeaderField {
  name: string
  value: string
}

export interface CreateMessageInput {
  email_account_id: string
  from_email: string
  to_email: string
  subject: string
  content_text?: string | null
  content_html?: string | null
  headers?: HeaderField[]
  direction: 'inbound' | 'outbound'
  message_type: 'email' | 'bounce' | 'auto_reply'
  status?: string
  campaign_id?: string | null
  sequence_step_id?: string | null
  lead_id?: string | null
  parent_message_id?: string | null
  /** RFC 5322 Message-ID; taken from a Message-ID header, or generated for outbound mail. */
  rfc822_message_id?: string | null
  attachments?: { filename: string; mime_type: string; bytes: Uint8Array; storage_disposition: string }[]
  /** Inbound only: the outbound message this one replies to or bounces, and what it means for it. */
  answers?: {
    ref: MessageRefRow
    type: 'replied' | 'auto_replied' | 'bounced'
    bounce_type: 'hard' | 'soft' | null
  }
}

/** The Message-ID a stored message carries: given, from its headers, or made for outbound mail. */
export function rfc822IdFor(input: CreateMessageInput, id: string): string | null {
  if (input.rfc822_message_id) return input.rfc822_message_id
  const fromHeader = messageIds(input.headers?.find((h) => h.name.toLowerCase() === 'message-id')?.value)[0]
  if (fromHeader) return fromHeader
  if (input.direction !== 'outbound') return null
  const domain = input.from_email.split('@')[1] || 'localhost'
  return `<${id}@${domain}>`
}

/** Hooks tests use to inject a crash between the two writes. Production never sets them. */
export interface WriteFaults {
  afterContentWrite?: () => void | Promise<void>
}

async function resolveReferences(deps: Deps, tenantId: string, input: CreateMessageInput) {
  const check = await checkMessageReferences(deps.tiers.oltp, tenantId, {
    emailAccountId: input.email_account_id,
    campaignId: input.campaign_id ?? null,
    stepId: input.sequence_step_id ?? null,
    leadId: input.lead_id ?? null,
    parentId: input.parent_message_id ?? null,
  })
  if (!check.email_account) throw notFound('email account', 'email_account_id')
  if (!check.campaign) throw notFound('campaign', 'campaign_id')
  if (!check.lead) throw notFound('lead', 'lead_id')
  if (!check.parent) throw notFound('parent message', 'parent_message_id')
  let campaignId = input.campaign_id ?? null
  if (input.sequence_step_id) {
    if (!check.step_campaign_id) throw notFound('sequence step', 'sequence_step_id')
    if (campaignId && campaignId !== check.step_campaign_id) {
      throw new ApiError('validation_failed', 'sequence_step_id belongs to a different campaign', [
        { field: 'sequence_step_id', message: 'does not belong to campaign_id' },
      ])
    }
    campaignId = check.step_campaign_id
  }
  return { campaignId }
}

export async function createMessage(
  deps: Deps,
  tenantId: string,
  input: CreateMessageInput,
  faults: WriteFaults = {},
): Promise<MessageRefRow> {
  const { tiers, config } = deps
  const { campaignId } = await resolveReferences(deps, tenantId, input)
  const id = newId()
  const storageKey = storageKeyFor(tenantId, id)
  const kind: ContentKind = input.direction
  const body = packBody(input.content_text ?? null, input.content_html ?? null, config.COMPRESS_MIN_BYTES)
  const attachments: NewAttachment[] = (input.attachments ?? []).map((a) => ({
    id: newId(),
    filename: a.filename,
    mimeType: a.mime_type,
    bytes: a.bytes,
    sha256: sha256Hex(a.bytes),
    storageDisposition: a.storage_disposition,
  }))

  await tiers.content.transaction(async (tx) => {
    const expires = expiresAt(await getPolicy(tx, tenantId), kind)
    await insertContentObject(tx, { storageKey, tenantId, kind, body, headers: input.headers ?? [], expires })
    for (const a of attachments) await insertAttachment(tx, tenantId, storageKey, a)
  })
  const contentWritten = performance.now()
  await faults.afterContentWrite?.()

  let viaOutbox = false
  const ref = await tiers.oltp.transaction(async (tx) => {
    // Past half the orphan grace period the content may be collected before this commits:
    // refuse (a server-side stall, answered 500) rather than leave a ref without content.
    if (performance.now() - contentWritten > (config.CONTENT_ORPHAN_GRACE_S * 1000) / 2) {
      throw new Error(`message ${id}: the ref came too late after its content; not committed`)
    }
    const row = await insertMessageRef(tx, {
      id,
      tenant_id: tenantId,
      email_account_id: input.email_account_id,
      campaign_id: campaignId,
      sequence_step_id: input.sequence_step_id ?? null,
      lead_id: input.lead_id ?? null,
      parent_message_id: input.parent_message_id ?? null,
      direction: input.direction,
      message_type: input.message_type,
      from_email: input.from_email,
      to_email: input.to_email,
      subject: input.subject,
      status: input.status ?? (input.direction === 'outbound' ? 'sent' : 'received'),
      content_storage_key: storageKey,
      rfc822_message_id: rfc822IdFor(input, id),
    })
    const answers = input.answers
    if (answers?.type === 'bounced') await markBounced(tx, tenantId, answers.ref.id)
    viaOutbox = await enqueueWithinOltp(tiers, tx, 'message.created', {
      tenant_id: tenantId,
      message_id: row.id,
      email_account_id: row.email_account_id,
      campaign_id: row.campaign_id,
      sequence_step_id: row.sequence_step_id,
      lead_id: row.lead_id,
      direction: row.direction,
      message_type: row.message_type,
      occurred_at: row.created.toISOString(),
      event: answers && {
        type: answers.type,
        message_id: answers.ref.id,
        email_account_id: answers.ref.email_account_id,
        campaign_id: answers.ref.campaign_id,
        sequence_step_id: answers.ref.sequence_step_id,
        bounce_type: answers.bounce_type,
      },
    })
    return row
  })
  if (viaOutbox) void deps.outbox.kick()
  return ref
}

export async function requireMessage(deps: Deps, tenantId: string, id: string): Promise<MessageRefRow> {
  const ref = await getMessageRef(deps.tiers.oltp, tenantId, id)
  if (!ref) throw notFound('message')
  return ref
}

/** The body, or 410 with its expiry date when retention expired it (the ref stays and says so). */
export async function readContent(deps: Deps, ref: MessageRefRow) {
  const row = await getContentObject(deps.tiers.content, ref.tenant_id, ref.content_storage_key)
  if (ref.content_state === 'expired' || row?.content_state === 'expired') {
    throw new ApiError('gone', 'the content of this message expired under the retention policy', undefined, {
      content_state: 'expired',
      expired_at: row?.expires?.toISOString() ?? null,
    })
  }
  // A ref always has content (invariant 1); a missing row here is a server fault, not a 404.
  if (!row) throw new Error(`content ${ref.content_storage_key} missing for message ${ref.id}`)
  return { ...unpackBody(row), headers: row.headers }
}

export function readAttachmentList(deps: Deps, ref: MessageRefRow) {
  return listAttachments(deps.tiers.content, ref.tenant_id, ref.content_storage_key)
}

export async function readAttachment(deps: Deps, ref: MessageRefRow, attachmentId: string) {
  const row = await getAttachment(deps.tiers.content, ref.tenant_id, ref.content_storage_key, attachmentId)
  if (!row) throw notFound('attachment')
  if (!row.content) throw new ApiError('gone', 'this attachment expired under the retention policy')
  return row
}
