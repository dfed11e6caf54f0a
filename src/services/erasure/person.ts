/**
 * Erasing a person from a tenant, tier by tier (the policy, as the README states it):
 * - OLTP: refs to or from the address (or linked to the person's lead) keep their ids, dates,
 *   mailbox, campaign, step and status, so threads and aggregates stay whole; their addresses
 *   and subject become "[erased]" and their content is marked erased (reads answer 410). The
 *   lead and any user with the address are deleted. A suppression keeps working on the hash of
 *   the address; the soft-bounce streak, receipts whose event id names the address, the
 *   tenant's kept Idempotency-Key answers (sealed, unreadable here) go; outbox jobs and audit
 *   details lose the address.
 * - Content: the bodies, headers and attachments of those messages, and of every message whose
 *   body, headers or attachment (names; bytes of text files) name the address, are deleted
 *   whole; transactional records to or from it keep their ids and status without the address,
 *   subject or body; notifications naming it are deleted.
 * - Queue: queued, archived and dead messages of the tenant and failed jobs' errors lose the
 *   address (queued ones a worker holds right now are waited for).
 * - Analytics: events keep every count; their metadata loses the address.
 * Work is found in bounded windows; the refs are marked before their content goes.
 */
import type { Deps } from '../../deps.ts'
import { addressMatcher, type Matcher } from '../../redaction.ts'
import { messageIdOfKey } from '../../storage-keys.ts'
import { unpackBody } from '../../tiers/content/codec.ts'
import { openBytes, openStored } from '../content-seal.ts'
import {
  attachmentsToSearch,
  bodiesAfter,
  countContentToErase,
  deleteNotifications,
  eraseContent,
  notificationsNamingWindow,
  transactionalNamingWindow,
  type StoredBody,
} from '../../tiers/content/person-erasure.ts'
import { eventsNamingWindow, redactEvents } from '../../tiers/analytics/person-erasure.ts'
import { insertAudit } from '../../tiers/oltp/audit-log.ts'
import type { ErasureRequestRow } from '../../tiers/oltp/erasure-requests.ts'
import {
  deleteLeadOf,
  deleteReceiptsNaming,
  deleteStreak,
  deleteUsersOf,
  dropKeptAnswers,
  eraseRefs,
  hashSuppression,
  keptAnswersWindow,
  outboxNaming,
  redactAudit,
  redactOutbox,
  refsNamingWindow,
} from '../../tiers/oltp/person-erasure.ts'
import { jobLogsNamingWindow, MESSAGE_TABLES, messagesNamingWindow, redactJobLogs, redactMessages, type QueueTable } from '../../tiers/queue/erasure.ts'
import { QUEUES } from '../../tiers/queue/queues.ts'
import type { Plan, Stage, Step } from './engine.ts'
import { NIL_UUID } from '../../ids.ts'

/** Rows a window reads (bodies: fewer, they are decompressed here). */
const WINDOW = 1000
const BODY_WINDOW = 200
/** How long to wait for a relay holding an outbox row (its lease is 10 s). */
const OUTBOX_WAIT_S = 10

export interface PersonContext {
  deps: Deps
  tenantId: string
  email: string
  m: Matcher
  leadId: string | null
  requestedAt: Date
}

/** The counts a person's request reports, every one present from the start. */
export const PERSON_COUNTS = {
  oltp: { messages: 0, leads: 0, users: 0, suppressions: 0, soft_bounce_streaks: 0, webhook_receipts: 0, outbox: 0, idempotency_answers: 0, audit_log: 0 },
  content: { bodies: 0, attachments: 0, attachment_blobs: 0, transactional_emails: 0, notifications: 0 },
  analytics: { events: 0 },
  queue: { queued: 0, archived: 0, dead_letters: 0, job_logs: 0 },
}

const decoder = new TextDecoder()

/** Whether a body, its headers or its attachments name the person. */
function bodyNames(row: StoredBody, files: { filename: string; content: Uint8Array | null }[], m: Matcher): boolean {
  const { content_text, content_html } = unpackBody(row)
  if (m.names(content_text) || m.names(content_html) || m.names(row.headers === null ? null : JSON.stringify(row.headers))) return true
  return files.some((f) => m.names(f.filename) || (f.content !== null && m.names(decoder.decode(f.content))))
}

/** Erases these messages: refs marked (with the progress), then their content (written down first). */
async function eraseMessages(ctx: PersonContext, ids: readonly string[], keys: readonly string[], next: string): Promise<Step> {
  const { tenantId, m } = ctx
  const counts = await countContentToErase(ctx.deps.tiers.content, tenantId, keys, [])
  return {
    next,
    oltp: async (tx) => ({ counts: { oltp: { messages: await eraseRefs(tx, tenantId, ids, m) } } }),
    pending: { op: 'content.erase', args: { keys, transactional_ids: [] }, counts: { content: { ...counts } } },
  }
}

const queueCount = (t: QueueTable) => (t.queue === QUEUES.deadLetters ? 'dead_letters' : t.archive ? 'archived' : 'queued')

/** A stage per pgmq table: the tenant's messages naming the person lose it; a queued one a worker holds is waited for. */
const queueStage = (t: QueueTable): Stage<PersonContext> => ({
  name: `queue.${t.archive ? 'a' : 'q'}_${t.queue}`,
  async step({ deps, tenantId, m }, cursor) {
    const visibilityTimeoutS = deps.config.WORKER_VISIBILITY_TIMEOUT_S
    const w = await messagesNamingWindow(deps.tiers.queue, t, tenantId, m, { after: cursor ?? '0', limit: WINDOW, visibilityTimeoutS })
    if (w.last === null) return { next: null }
    if (w.hits.some((h) => h.in_flight)) return { next: cursor, waitSeconds: visibilityTimeoutS }
    if (w.hits.length === 0) return { next: w.last }
    const ids = w.hits.map((h) => h.msg_id)
    return { next: w.last, pending: { op: 'queue.redact', args: { table: t, ids }, counts: { queue: { [queueCount(t)]: ids.length } } } }
  },
})

const STAGES: Stage<PersonContext>[] = [
  {
    name: 'oltp.messages',
    async step(ctx, cursor) {
      const w = await refsNamingWindow(ctx.deps.tiers.oltp, ctx.tenantId, ctx.m, ctx.leadId, cursor ?? NIL_UUID, WINDOW)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      return eraseMessages(ctx, w.hits.map((h) => h.id), w.hits.map((h) => h.content_storage_key), w.last)
    },
  },
  {
    name: 'content.bodies',
    async step(ctx, cursor) {
      const content = ctx.deps.tiers.content
      const rows = await bodiesAfter(content, ctx.tenantId, cursor ?? '', BODY_WINDOW)
      if (rows.length === 0) return { next: null }
      // Sealed bodies and bytes are opened to be searched; a key that cannot be had fails the step (retried), never skips it.
      const found = await attachmentsToSearch(content, ctx.tenantId, rows.map((r) => r.storage_key))
      const opened = await Promise.all(
        found.map(async (f) => ({ parent_storage_key: f.parent_storage_key, filename: f.filename, content: await openBytes(ctx.deps, ctx.tenantId, f) })),
      )
      const files = Map.groupBy(opened, (f) => f.parent_storage_key)
      const clear = await Promise.all(rows.map((r) => openStored(ctx.deps.contentKeys, ctx.tenantId, r)))
      const keys = clear.filter((r) => bodyNames(r, files.get(r.storage_key) ?? [], ctx.m)).map((r) => r.storage_key)
      const last = rows.at(-1)!.storage_key
      if (keys.length === 0) return { next: last }
      // A transactional body's key names no ref: its record is erased with it (eraseContent).
      return eraseMessages(ctx, keys.map(messageIdOfKey).filter((id): id is string => id !== undefined), keys, last)
    },
  },
  {
    name: 'content.transactional',
    async step({ deps, tenantId, m }, cursor) {
      const w = await transactionalNamingWindow(deps.tiers.content, tenantId, m, cursor ?? NIL_UUID, WINDOW)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      const ids = w.hits.map((h) => h.id)
      const counts = await countContentToErase(deps.tiers.content, tenantId, [], ids)
      return { next: w.last, pending: { op: 'content.erase', args: { keys: [], transactional_ids: ids }, counts: { content: { ...counts } } } }
    },
  },
  {
    name: 'content.notifications',
    async step({ deps, tenantId, m }, cursor) {
      const w = await notificationsNamingWindow(deps.tiers.content, tenantId, m, cursor ?? NIL_UUID, WINDOW)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      const ids = w.hits.map((h) => h.id)
      return { next: w.last, pending: { op: 'content.delete_notifications', args: { ids }, counts: { content: { notifications: ids.length } } } }
    },
  },
  {
    name: 'oltp.people',
    async step({ tenantId, email, leadId, m }) {
      return {
        next: null,
        oltp: async (tx) => ({
          counts: {
            oltp: {
              leads: await deleteLeadOf(tx, tenantId, email, leadId),
              users: await deleteUsersOf(tx, tenantId, email),
              suppressions: await hashSuppression(tx, tenantId, email, m),
              soft_bounce_streaks: await deleteStreak(tx, tenantId, email),
              webhook_receipts: await deleteReceiptsNaming(tx, tenantId, m),
              audit_log: await redactAudit(tx, tenantId, m),
            },
          },
        }),
      }
    },
  },
  {
    name: 'oltp.idempotency',
    async step({ deps, tenantId, requestedAt }, cursor) {
      const w = await keptAnswersWindow(deps.tiers.oltp, tenantId, requestedAt, cursor ?? '', WINDOW)
      if (w.last === null) return { next: null }
      const keys = w.hits.map((h) => h.key_hash)
      return { next: w.last, oltp: async (tx) => ({ counts: { oltp: { idempotency_answers: await dropKeptAnswers(tx, tenantId, keys) } } }) }
    },
  },
  {
    name: 'oltp.outbox',
    async step({ deps, tenantId, m }) {
      const rows = await outboxNaming(deps.tiers.oltp, tenantId, m)
      if (rows.some((r) => r.claimed)) return { next: null, waitSeconds: OUTBOX_WAIT_S }
      const ids = rows.map((r) => r.id)
      return { next: null, oltp: async (tx) => ({ counts: { oltp: { outbox: await redactOutbox(tx, tenantId, ids, m) } } }) }
    },
  },
  ...MESSAGE_TABLES.map(queueStage),
  {
    name: 'queue.job_logs',
    async step({ deps, m }, cursor) {
      const w = await jobLogsNamingWindow(deps.tiers.queue, m, cursor ?? '0', WINDOW)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      const ids = w.hits.map((h) => h.id)
      return { next: w.last, pending: { op: 'queue.redact_job_logs', args: { ids }, counts: { queue: { job_logs: ids.length } } } }
    },
  },
  {
    name: 'analytics.events',
    async step({ deps, tenantId, m }, cursor) {
      const w = await eventsNamingWindow(deps.tiers.analytics, tenantId, m, cursor ?? '', WINDOW)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      const ids = w.hits.map((h) => h.event_id)
      return { next: w.last, pending: { op: 'analytics.redact_events', args: { ids }, counts: { analytics: { events: ids.length } } } }
    },
  },
]

export const personPlan: Plan<PersonContext> = {
  context(deps, req: ErasureRequestRow) {
    if (!req.email) throw new Error(`erasure request ${req.id} has no address to erase`)
    return { deps, tenantId: req.tenant_id, email: req.email, m: addressMatcher(req.email), leadId: req.lead_id, requestedAt: req.requested_at }
  },
  stages: STAGES,
  apply: {
    'content.erase': ({ deps, tenantId, m }, a: { keys: string[]; transactional_ids: string[] }) =>
      deps.tiers.content.transaction((tx) => eraseContent(tx, tenantId, a.keys, a.transactional_ids, m)),
    'content.delete_notifications': ({ deps, tenantId }, a: { ids: string[] }) => deleteNotifications(deps.tiers.content, tenantId, a.ids),
    'queue.redact': ({ deps, m }, a: { table: QueueTable; ids: string[] }) => redactMessages(deps.tiers.queue, a.table, a.ids, m),
    'queue.redact_job_logs': ({ deps, m }, a: { ids: string[] }) => redactJobLogs(deps.tiers.queue, a.ids, m),
    'analytics.redact_events': ({ deps, tenantId, m }, a: { ids: string[] }) => redactEvents(deps.tiers.analytics, tenantId, a.ids, m),
  },
  async finish(tx, { tenantId }, req) {
    await insertAudit(tx, {
      tenantId,
      actor: req.requested_by,
      action: 'erasure.completed',
      targetType: 'erasure_request',
      targetId: req.id,
      detail: { kind: 'person', counts: req.counts },
    })
  },
}
