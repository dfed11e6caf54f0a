/**
 * The message write path, shared by the API and inbound mail: content first, then the ref and its
 * message.created job in one OLTP transaction. A crash in between leaves orphan content
 * (collected later), never a ref without content. Callers check every id the message names
 * before they call; nothing here reads OLTP.
 */
import { safeFilename, storedMimeType } from '../content-safety.ts'
import type { Deps } from '../deps.ts'
import { newId, sha256Hex } from '../ids.ts'
import { checkAttachments, checkHeaders } from '../limits.ts'
import { messageKey } from '../storage-keys.ts'
import type { BounceType } from '../tiers/analytics/events.ts'
import type { Queryable } from '../db/types.ts'
import { insertAttachments, type NewAttachment } from '../tiers/content/attachments.ts'
import { packBody, type PackedBody } from '../tiers/content/codec.ts'
import { deleteContentObject, insertContentObjects } from '../tiers/content/objects.ts'
import { readPolicies } from '../tiers/content/retention.ts'
import { sealWrite } from './content-seal.ts'
import { findInboundByRfc822Id, insertMessageRefs, markBounced, newMessageRef, type MessageRefRow, type NewMessageRef } from '../tiers/oltp/messages.ts'
import type { MessageType } from '../tiers/oltp/schema.ts'
import type { JobPayload } from '../jobs/specs.ts'
import { envelopeFor } from '../jobs/enqueue.ts'
import { currentRequestIds, withRequestIds, type RequestIds } from '../request-context.ts'
import { enqueueEnvelopesWithinOltp, type TenantJob } from './outbox.ts'
import type { OutboxRow } from '../tiers/oltp/outbox.ts'
import { auditMessagesCreated } from './audit.ts'
import { applySignals, type DeliverySignal } from './suppressions.ts'

export interface HeaderField {
  name: string
  value: string
}

export interface AttachmentInput {
  filename: string
  mime_type: string
  bytes: Uint8Array
  storage_disposition: string
}

/** A message ready to store: its id chosen and every id it names checked against its tenant. */
export interface CheckedMessage {
  id: string
  email_account_id: string
  campaign_id: string | null
  sequence_step_id: string | null
  lead_id: string | null
  parent_message_id: string | null
  direction: 'inbound' | 'outbound'
  message_type: MessageType
  status: string
  from_email: string
  to_email: string
  subject: string
  content_text: string | null
  content_html: string | null
  headers: HeaderField[]
  rfc822_message_id: string | null
  attachments: AttachmentInput[]
}

/** What an inbound message means for the outbound message it answers: an event on it, and a bounce marks it. */
export interface Answer {
  original: MessageRefRow
  type: 'replied' | 'auto_replied' | 'bounced' | 'complained' | 'delivered'
  bounce_type: BounceType | null
  detail?: AnswerDetail
}

/** Why it bounced or who complained, for the event's metadata (the message.created job's `event`). */
export type AnswerDetail = Pick<NonNullable<JobPayload<'message.created'>['event']>, 'reason' | 'status' | 'recipient' | 'recipients' | 'feedback_type'>

/** Hooks tests use to inject a crash or a stall between the two writes. Production never sets them. */
export interface WriteFaults {
  afterContentWrite?: () => void | Promise<void>
}

export interface Written {
  ref: MessageRefRow
  /**
   * False when an inbound message with this Message-ID was already stored (a redelivery, possibly
   * racing this one): `ref` is that message, and this write added nothing (no event, no bounce).
   */
  created: boolean
}

/**
 * What an answer says about the addresses involved (src/services/suppressions.ts): the failed
 * recipients the report names, else the recipient of the message it answers.
 */
function signalsOf(m: CheckedMessage, a: Answer | undefined): DeliverySignal[] {
  if (!a) return []
  const from = { source: 'inbound', sourceMessageId: m.id }
  const named = a.detail?.recipients ?? (a.detail?.recipient ? [a.detail.recipient] : [])
  const emails = named.length > 0 ? named : [a.original.to_email]
  switch (a.type) {
    case 'bounced':
      return [{ kind: 'bounce', emails, bounceType: a.bounce_type ?? 'hard', reason: a.detail?.reason ?? null, ...from }]
    case 'complained':
      return [{ kind: 'complaint', emails, ...from }]
    case 'delivered':
      return [{ kind: 'alive', emails }]
    case 'replied':
    case 'auto_replied':
      return [{ kind: 'alive', emails: [a.original.to_email, m.from_email] }]
  }
}

/** One message made ready to store: checked against the caps, its body packed, its attachments hashed. */
export interface PreparedWrite {
  tenantId: string
  m: CheckedMessage
  storageKey: string
  body: PackedBody
  attachments: NewAttachment[]
  answers?: Answer
  /** The request it came with: a group commits it in another request's flush, but its job and log lines name its own. */
  requestIds: RequestIds | undefined
}

/** Everything that can refuse a message without the database, before it joins a write. */
export function prepareWrite(deps: Deps, tenantId: string, m: CheckedMessage, answers?: Answer): PreparedWrite {
  // The same caps for the API and inbound mail, before anything is written.
  checkHeaders(m.headers)
  checkAttachments(m.attachments)
  const attachments: NewAttachment[] = m.attachments.map((a) => ({
    id: newId(),
    filename: safeFilename(a.filename),
    mimeType: storedMimeType(a.mime_type),
    bytes: a.bytes,
    sha256: sha256Hex(a.bytes),
    storageDisposition: a.storage_disposition,
  }))
  const body = packBody(m.content_text, m.content_html, deps.config.COMPRESS_MIN_BYTES)
  return { tenantId, m, storageKey: messageKey(tenantId, m.id), body, attachments, answers, requestIds: currentRequestIds() }
}

/** Writes the content of every message in one transaction (one commit however many). */
export async function commitContent(deps: Deps, writes: readonly PreparedWrite[]): Promise<number> {
  // Sealed before the transaction: a tenant's first write makes its key, which must not wait on
  // the transaction's connection. The group's retention policies are read meanwhile, once.
  const [sealed, policies] = await Promise.all([
    Promise.all(writes.map((p) => sealWrite(deps, p.tenantId, p.storageKey, p.body, p.m.headers, p.attachments))),
    readPolicies(deps.tiers.content, writes.map((p) => p.tenantId)),
  ])
  await deps.tiers.content.transaction(async (tx) => {
    await insertContentObjects(
      tx,
      writes.map((p, i) => ({ storageKey: p.storageKey, tenantId: p.tenantId, kind: p.m.direction, body: sealed[i]!.body, policy: policies.get(p.tenantId)! })),
    )
    // After their bodies (their foreign key).
    await insertAttachments(
      tx,
      writes.flatMap((p, i) => sealed[i]!.attachments.map((a) => ({ tenantId: p.tenantId, parentKey: p.storageKey, a }))),
    )
  })
  return deps.clock.now()
}

function createdPayload(row: MessageRefRow, answers: Answer | undefined): JobPayload<'message.created'> {
  return {
    tenant_id: row.tenant_id,
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
      message_id: answers.original.id,
      email_account_id: answers.original.email_account_id,
      campaign_id: answers.original.campaign_id,
      sequence_step_id: answers.original.sequence_step_id,
      bounce_type: answers.bounce_type,
      ...answers.detail,
    },
  }
}

/** The ref row a message becomes. */
const newRef = ({ m, tenantId, storageKey }: PreparedWrite): NewMessageRef =>
  newMessageRef({ id: m.id, tenant_id: tenantId, email_account_id: m.email_account_id, parent_message_id: m.parent_message_id, content_storage_key: storageKey }, m)

/**
 * After a message's ref was inserted (row) or not (undefined: a redelivery of an inbound
 * Message-ID): what its answer changes, and the created row or the stored copy.
 */
async function settleRef(deps: Deps, tx: Queryable, p: PreparedWrite, row: MessageRefRow | undefined): Promise<Written> {
  const { m, tenantId, answers } = p
  if (!row) {
    // Read in the same transaction: the insert waited for the copy that won, so it is committed.
    const stored = await findInboundByRfc822Id(tx, tenantId, m.rfc822_message_id!)
    if (!stored) throw new Error(`message ${m.id}: its Message-ID conflicted, but no stored copy was found`)
    return { ref: stored, created: false }
  }
  if (answers?.type === 'bounced') await markBounced(tx, tenantId, answers.original.id)
  await applySignals(tx, deps.config, tenantId, signalsOf(m, answers))
  return { ref: row, created: true }
}

/**
 * The refs of messages whose content committed at `contentWritten`, with their message.created
 * jobs, in one OLTP transaction: every ref commits with its job, or none does.
 */
export async function commitRefs(deps: Deps, writes: readonly PreparedWrite[], contentWritten: number): Promise<Written[]> {
  const { tiers, config, clock } = deps
  let outboxed: OutboxRow[] = []
  const written = await tiers.oltp.transaction(async (tx): Promise<Written[]> => {
    // Past half the orphan grace period the content may be collected before this commits:
    // refuse (a server-side stall, answered 500) rather than leave a ref without content.
    if (clock.now() - contentWritten > (config.CONTENT_ORPHAN_GRACE_S * 1000) / 2) {
      throw new Error(`messages ${writes.map((p) => p.m.id).join(', ')}: the refs came too late after their content; not committed`)
    }
    // Every ref in one statement; then, per message, what it changes besides.
    const rows = await insertMessageRefs(tx, writes.map(newRef))
    const out = await Promise.all(writes.map((p, i) => withRequestIds(p.requestIds, () => settleRef(deps, tx, p, rows[i]))))
    const jobs: TenantJob[] = []
    let queue = ''
    for (const [i, w] of out.entries()) {
      const p = writes[i]!
      if (!w.created) continue
      const job = withRequestIds(p.requestIds, () => envelopeFor('message.created', createdPayload(w.ref, p.answers)))
      queue = job.queue
      jobs.push({ tenantId: p.tenantId, envelope: job.envelope })
    }
    outboxed = await enqueueEnvelopesWithinOltp(tiers, tx, queue, jobs)
    await auditMessagesCreated(tx, writes, out)
    return out
  })
  deps.outbox.publish(outboxed)
  // The content just written is under this write's own new id, which no ref will ever name:
  // delete it now rather than keep it for an hour. Should that fail, the orphan collector will.
  for (const [i, w] of written.entries()) {
    if (w.created) continue
    const p = writes[i]!
    await deleteContentObject(tiers.content, p.tenantId, p.storageKey).catch((err) =>
      deps.log.warn({ err, message_id: p.m.id }, 'could not delete the content of a redelivered message; left to the orphan collector'),
    )
  }
  return written
}

/** One message on its own: its content transaction, then its OLTP transaction. */
export async function writeMessage(
  deps: Deps,
  tenantId: string,
  m: CheckedMessage,
  { answers, faults = {} }: { answers?: Answer; faults?: WriteFaults } = {},
): Promise<Written> {
  const p = prepareWrite(deps, tenantId, m, answers)
  const contentWritten = await commitContent(deps, [p])
  await faults.afterContentWrite?.()
  return (await commitRefs(deps, [p], contentWritten))[0]!
}
