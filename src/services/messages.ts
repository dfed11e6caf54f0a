/**
 * Messages through the API: create (every id checked in one OLTP read, then the write path) and
 * the reads, which join a ref (OLTP) with its content (content tier) by storage key.
 */
import { readerOf } from '../db/tiers.ts'
import type { Deps } from '../deps.ts'
import { conflict, gone, invalid, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { messageIds } from '../inbound/parse.ts'
import { paged, type Page, type PageRequest } from '../pagination.ts'
import { getAttachment, listAttachments } from '../tiers/content/attachments.ts'
import { getContentObject } from '../tiers/content/objects.ts'
import { checkMessageReferences, getMessageRef, getThread, listMessageRefs, type MessageFilter, type MessageRefRow, type ReferenceCheck, type ReferenceIds } from '../tiers/oltp/messages.ts'
import { openBytes, openContent } from './content-seal.ts'
import { normalizeAddress, suppressedRecipient } from './suppressions.ts'
import { prepareWrite, type AttachmentInput, type CheckedMessage, type HeaderField, type WriteFaults } from './message-write.ts'

export type { HeaderField } from './message-write.ts'

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
  attachments?: AttachmentInput[]
  /** Send to a suppressed recipient anyway (src/services/suppressions.ts). */
  override_suppression?: boolean
}

/** The Message-ID a stored message carries: given, from its headers, or made for outbound mail. */
function rfc822IdFor(input: CreateMessageInput, id: string): string | null {
  if (input.rfc822_message_id) return input.rfc822_message_id
  const fromHeader = messageIds(input.headers?.find((h) => h.name.toLowerCase() === 'message-id')?.value)[0]
  if (fromHeader) return fromHeader
  if (input.direction !== 'outbound') return null
  const domain = input.from_email.split('@')[1] || 'localhost'
  return `<${id}@${domain}>`
}

/** The ids a new message names, as the reference check (one message or a batch) takes them. */
export function referencesOf(input: CreateMessageInput): ReferenceIds {
  return {
    emailAccountId: input.email_account_id,
    campaignId: input.campaign_id ?? null,
    stepId: input.sequence_step_id ?? null,
    leadId: input.lead_id ?? null,
    parentId: input.parent_message_id ?? null,
    suppressionOf: input.direction === 'outbound' && !input.override_suppression ? normalizeAddress(input.to_email) : null,
  }
}

/** Every id the message names must be the tenant's; a sequence step fills in (or must match) its campaign. */
export function resolveReferences(check: ReferenceCheck, input: CreateMessageInput): { campaignId: string | null } {
  if (!check.email_account) throw notFound('email account', 'email_account_id')
  if (!check.campaign) throw notFound('campaign', 'campaign_id')
  if (!check.lead) throw notFound('lead', 'lead_id')
  if (!check.parent) throw notFound('parent message', 'parent_message_id')
  if (check.suppressed) throw suppressedRecipient(normalizeAddress(input.to_email), check.suppressed)
  if (!input.sequence_step_id) return { campaignId: input.campaign_id ?? null }
  if (!check.step_campaign_id) throw notFound('sequence step', 'sequence_step_id')
  if (input.campaign_id && input.campaign_id !== check.step_campaign_id) {
    throw invalid('sequence_step_id belongs to a different campaign', 'sequence_step_id', 'does not belong to campaign_id')
  }
  return { campaignId: check.step_campaign_id }
}

/** The message to store once its references are resolved: a new id, its status and Message-ID. */
export function checkedMessage(input: CreateMessageInput, campaignId: string | null): CheckedMessage {
  const id = newId()
  return {
    id,
    email_account_id: input.email_account_id,
    campaign_id: campaignId,
    sequence_step_id: input.sequence_step_id ?? null,
    lead_id: input.lead_id ?? null,
    parent_message_id: input.parent_message_id ?? null,
    direction: input.direction,
    message_type: input.message_type,
    status: input.status ?? (input.direction === 'outbound' ? 'sent' : 'received'),
    from_email: input.from_email,
    to_email: input.to_email,
    subject: input.subject,
    content_text: input.content_text ?? null,
    content_html: input.content_html ?? null,
    headers: input.headers ?? [],
    rfc822_message_id: rfc822IdFor(input, id),
    attachments: input.attachments ?? [],
  }
}

/** Only an inbound message can collide (one per tenant and Message-ID): 409 rather than hand back a different message. */
export const duplicateInbound = () => conflict('an inbound message with this Message-ID is already stored', 'rfc822_message_id')

export async function createMessage(deps: Deps, tenantId: string, input: CreateMessageInput, faults?: WriteFaults): Promise<MessageRefRow> {
  const check = await checkMessageReferences(deps.tiers.oltp, tenantId, referencesOf(input))
  const message = checkedMessage(input, resolveReferences(check, input).campaignId)
  const { ref, created } = await deps.writes.write(prepareWrite(deps, tenantId, message), faults)
  if (!created) throw duplicateInbound()
  return ref
}

export async function listMessages(deps: Deps, tenantId: string, filter: Omit<MessageFilter, 'before' | 'limit'>, page: PageRequest): Promise<Page<MessageRefRow>> {
  return paged(page, (keyset) => listMessageRefs(readerOf(deps.tiers, 'oltp'), tenantId, { ...filter, ...keyset }))
}

async function requireMessage(deps: Deps, tenantId: string, id: string): Promise<MessageRefRow> {
  const ref = await getMessageRef(deps.tiers.oltp, tenantId, id)
  if (!ref) throw notFound('message')
  return ref
}

/** Content an erasure request removed: the ref stays and says so, like expired content. */
const erased = () => gone('the content of this message was erased at the request of the person it named', { content_state: 'erased' })

/** The body and headers; gone, with its expiry date, when retention expired it (the ref stays and says so). */
async function readContent(deps: Deps, ref: MessageRefRow) {
  if (ref.content_state === 'erased') throw erased()
  const row = await getContentObject(deps.tiers.content, ref.tenant_id, ref.content_storage_key)
  if (ref.content_state === 'expired' || row?.content_state === 'expired') {
    throw gone('the content of this message expired under the retention policy', {
      content_state: 'expired',
      expired_at: row?.expires?.toISOString() ?? null,
    })
  }
  // The write order guarantees a ref its content: a missing row here is a server fault, not a 404.
  if (!row) throw new Error(`content ${ref.content_storage_key} missing for message ${ref.id}`)
  return openContent(deps, ref.tenant_id, row)
}

export type MessageContent = Awaited<ReturnType<typeof readContent>>

/** The ref with its content and attachment list. */
export async function getMessage(deps: Deps, tenantId: string, id: string) {
  const ref = await requireMessage(deps, tenantId, id)
  const [content, attachments] = await Promise.all([
    readContent(deps, ref),
    listAttachments(deps.tiers.content, ref.tenant_id, ref.content_storage_key),
  ])
  return { ...ref, content, attachments }
}

export async function getMessageContent(deps: Deps, tenantId: string, id: string): Promise<MessageContent> {
  return readContent(deps, await requireMessage(deps, tenantId, id))
}

/** One attachment with its bytes; gone once its message's content or its own bytes expired. */
export async function getMessageAttachment(deps: Deps, tenantId: string, id: string, attachmentId: string) {
  const ref = await requireMessage(deps, tenantId, id)
  if (ref.content_state === 'erased') throw erased()
  if (ref.content_state === 'expired') throw gone('the content of this message expired')
  const row = await getAttachment(deps.tiers.content, ref.tenant_id, ref.content_storage_key, attachmentId)
  if (!row) throw notFound('attachment')
  const { content, key_id: _k, nonce: _n, sealed_as: _s, ...meta } = row
  const bytes = await openBytes(deps, ref.tenant_id, row)
  if (!bytes) throw gone('this attachment expired under the retention policy')
  return { ...meta, content: bytes }
}

/** The whole conversation the message belongs to, oldest first. */
export async function getMessageThread(deps: Deps, tenantId: string, id: string): Promise<MessageRefRow[]> {
  const thread = await getThread(deps.tiers.oltp, tenantId, id)
  // A thread always holds the message it was asked from: empty means no such message.
  if (thread.length === 0) throw notFound('message')
  return thread
}
