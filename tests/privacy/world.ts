/**
 * A tenant whose data names one person in every tier, and names another person (who must be left
 * alone) next to it: leads; an outbound message with a compressed body, headers and two
 * attachments (one file's bytes shared with the other person's message); the person's inbound
 * reply with an attachment; a message to the other person whose body mentions the person; events
 * whose metadata names each; transactional email and notifications; a suppression with a note, a
 * soft-bounce streak, a webhook receipt, a kept Idempotency-Key answer, an audit entry; and a job
 * that failed naming the person (a job log and a dead letter). Everything runs through the API or
 * the real worker runtime where a path exists, through the tier's own named query otherwise.
 */
import { z } from 'zod'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { send } from '../../src/tiers/queue/pgmq.ts'
import { countSoftBounces, firstReceipts } from '../../src/tiers/oltp/suppressions.ts'
import { insertAudit } from '../../src/tiers/oltp/audit-log.ts'
import { HANDLERS } from '../../workers/handlers/index.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'
import { Worker } from '../../workers/runtime/worker.ts'
import { call, createTenant, type TenantFixture } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import type { TestSystem } from '../support/system.ts'

export interface World extends TenantFixture {
  campaignId: string
  stepId: string
  leadId: string
  otherLeadId: string
  /** The person's messages: the outbound one, their reply, and one to the other person that mentions them. */
  outbound: string
  reply: string
  mention: string
  /** The other person's own message. */
  otherMessage: string
  transactional: string
  otherTransactional: string
  /** The request body and key of the kept Idempotency-Key answer. */
  idempotent: { key: string; body: unknown }
}

/** A job that fails once and for all, naming the address it was given: a dead letter and a job log that name the person. */
const failingJob = {
  name: 'test.notify_person',
  queue: QUEUES.jobs,
  maxAttempts: 1,
  schema: z.object({ tenant_id: z.string(), email: z.string() }),
  async handler(p: { tenant_id: string; email: string }) {
    throw new Error(`the mailbox of ${p.email} (tenant ${p.tenant_id}) refused the notice`)
  },
} as JobDefinition

/** Over COMPRESS_MIN_BYTES, so it is stored zstd-compressed and only a decompressed search finds the address. */
const longText = (line: string) => Array.from({ length: 40 }, (_, i) => `${i}. ${line}`).join('\n')

/** 300 bytes that are not text: the same bytes attached to both people's messages are stored once. */
const PHOTO = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) % 256)).toString('base64')

export async function buildWorld(sys: TestSystem, name: string, person: string, other: string): Promise<World> {
  const t = await createTenant(sys, name)
  const as = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
    call(sys, method, path, { token: t.key, body, headers }).then((r) => {
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`)
      return r.body
    })
  const account = await as('GET', `/v1/email-accounts/${t.accountId}`)
  const campaign = await as('POST', '/v1/campaigns', { name: `${name} campaign` })
  const step = await as('POST', `/v1/campaigns/${campaign.id}/steps`, { step_number: 1, subject: 'Intro' })
  const lead = await as('POST', '/v1/leads', { email: person, first_name: 'Jane', last_name: 'Doe' })
  const otherLead = await as('POST', '/v1/leads', { email: other, first_name: 'Bob' })
  const message = (to: string, extra: object) =>
    as('POST', '/v1/messages', { email_account_id: t.accountId, from_email: account.email_address, to_email: to, sequence_step_id: step.id, ...extra })

  const outbound = await message(person.toUpperCase(), {
    lead_id: lead.id,
    subject: `A question for ${person}`,
    content_text: longText(`Hello Jane, is ${person} still the best address?`),
    content_html: `<p>Hello Jane (${person})</p>`,
    headers: [{ name: 'X-Lead', value: `Jane Doe <${person}>` }],
    attachments: [
      { filename: 'notes.txt', mime_type: 'text/plain', content_base64: Buffer.from(`call ${person} on Monday`).toString('base64') },
      { filename: 'photo.png', mime_type: 'image/png', content_base64: PHOTO },
    ],
  })
  const otherMessage = await message(other, {
    lead_id: otherLead.id,
    subject: 'A question for Bob',
    content_text: 'Hello Bob',
    attachments: [{ filename: 'photo.png', mime_type: 'image/png', content_base64: PHOTO }],
  })
  const mention = await message(other, { subject: 'Introduction', content_text: longText(`Bob, meet Jane: ${person.toLowerCase()}`) })

  const raw = [
    `From: Jane Doe <${person}>`,
    `To: ${account.email_address}`,
    'Subject: Re: A question',
    `Message-ID: <reply-${outbound.id}@mail.example.net>`,
    `In-Reply-To: ${outbound.rfc822_message_id}`,
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Yes, ${person} is right. Thursday works.`,
    '--b1',
    'Content-Type: text/plain; name="card.txt"',
    'Content-Disposition: attachment; filename="card.txt"',
    '',
    `Jane Doe <${person}>`,
    '--b1--',
    '',
  ].join('\r\n')
  const reply = await call(sys, 'POST', `/v1/inbound?email_account_id=${t.accountId}`, {
    token: t.key,
    rawBody: raw,
    headers: { 'content-type': 'message/rfc822' },
  })
  if (reply.status !== 201) throw new Error(`inbound: ${reply.status} ${JSON.stringify(reply.body)}`)

  const at = new Date(Date.now() - 3600_000).toISOString()
  await as('POST', '/v1/events', {
    events: [
      { event_id: `open-${outbound.id}`, message_id: outbound.id, type: 'opened', occurred_at: at },
      { event_id: `bounce-${outbound.id}`, message_id: outbound.id, type: 'bounced', occurred_at: at, metadata: { reason: 'mailbox_full', recipient: person.toUpperCase() } },
      { event_id: `open-${otherMessage.id}`, message_id: otherMessage.id, type: 'opened', occurred_at: at, metadata: { recipient: other } },
    ],
  })

  const idempotent = { key: `tx-${outbound.id}`, body: { to_email: person, from_email: account.email_address, subject: 'Your receipt', content_text: 'Thank you.' } }
  const transactional = await as('POST', '/v1/transactional-emails', idempotent.body, { 'idempotency-key': idempotent.key })
  const otherTransactional = await as('POST', '/v1/transactional-emails', { to_email: other, from_email: account.email_address, subject: 'Receipt', content_text: 'Thanks.' })
  await as('POST', '/v1/notifications', { title: 'New reply', body: `${person} replied to your sequence` })
  await as('POST', '/v1/notifications', { title: 'Weekly digest', body: 'Nothing new this week' })
  await as('POST', '/v1/suppressions', { email: person, note: `asked by ${person} on the phone` })

  const { oltp, queue } = sys.tiers
  await countSoftBounces(oltp, t.id, [person.toLowerCase()], 30)
  await firstReceipts(oltp, t.id, 'mailgun', [`evt:${person.toLowerCase()}`])
  await insertAudit(oltp, { tenantId: t.id, actor: 'test', action: 'lead.noted', targetType: 'lead', targetId: lead.id, detail: { email: person } })

  const worker = new Worker(sys.deps, { queues: [QUEUES.jobs], jobs: jobMap([...HANDLERS.values(), failingJob]) })
  await send(queue, QUEUES.jobs, { job: failingJob.name, payload: { tenant_id: t.id, email: person } })
  await worker.runOnce(QUEUES.jobs)
  await drainQueues(sys)

  return {
    ...t,
    campaignId: campaign.id,
    stepId: step.id,
    leadId: lead.id,
    otherLeadId: otherLead.id,
    outbound: outbound.id,
    reply: reply.body.id,
    mention: mention.id,
    otherMessage: otherMessage.id,
    transactional: transactional.id,
    otherTransactional: otherTransactional.id,
    idempotent,
  }
}

/** What erasing the world's person reports: the same for every world, however the run went. */
export const ERASED_COUNTS = {
  oltp: { messages: 3, leads: 1, users: 0, suppressions: 1, soft_bounce_streaks: 1, webhook_receipts: 1, outbox: 0, idempotency_answers: 1, audit_log: 1 },
  content: { bodies: 4, attachments: 3, attachment_blobs: 2, transactional_emails: 1, notifications: 1 },
  analytics: { events: 1 },
  queue: { queued: 0, archived: 2, dead_letters: 1, job_logs: 1 },
}

/** The analytics a tenant's reports show for its campaign, step and mailbox (without the freshness fields). */
export async function reports(sys: TestSystem, w: World) {
  const strip = ({ as_of: _a, freshness_seconds: _f, ...r }: Record<string, unknown>) => r
  const get = (path: string) => call(sys, 'GET', path, { token: w.key }).then((r) => r.body)
  const steps = await get(`/v1/analytics/campaigns/${w.campaignId}/steps`)
  return {
    campaign: strip(await get(`/v1/analytics/campaigns/${w.campaignId}`)),
    mailbox: strip(await get(`/v1/analytics/email-accounts/${w.accountId}`)),
    steps: steps.data.map(strip),
  }
}
