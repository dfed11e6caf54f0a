/**
 * Deleting a tenant: every row of it in the four tiers, a bounded batch at a time, after its keys
 * were refused (status deleting). Its work goes first (outbox, then queued messages, waiting for
 * any a worker holds), so nothing the tenant started writes again behind the deletion; then what
 * workers wrote (analytics), the content, and OLTP, with the tenant row last. What stays is the
 * record that it happened: this erasure request and the audit entries about it.
 *
 * Outside OLTP a table is counted before its rows go (a census), since the rows and the count
 * live in different databases; OLTP rows are counted as they are deleted, in the same transaction.
 */
import type { Deps } from '../../deps.ts'
import { textMatcher, type Matcher } from '../../redaction.ts'
import { ANALYTICS_TABLES, countTenantRows as countAnalytics, deleteTenantRows as deleteAnalytics } from '../../tiers/analytics/tenant-purge.ts'
import { destroyTenantKey, deleteTenantKey } from '../../tiers/content/keys.ts'
import { CONTENT_TABLES, countTenantRows as countContent, deleteTenantRows as deleteContent } from '../../tiers/content/tenant-purge.ts'
import { insertAudit } from '../../tiers/oltp/audit-log.ts'
import type { ErasureRequestRow } from '../../tiers/oltp/erasure-requests.ts'
import { deleteOutboxRows, deleteTenant, deleteTenantRows as deleteOltp, OLTP_TABLES, outboxOfTenant } from '../../tiers/oltp/tenant-purge.ts'
import { deleteMessages, jobLogsNamingWindow, MESSAGE_TABLES, messagesNamingWindow, redactJobLogs, type QueueTable } from '../../tiers/queue/erasure.ts'
import { QUEUES } from '../../tiers/queue/queues.ts'
import type { Plan, Stage } from './engine.ts'

const BATCH = 1000
const OUTBOX_WAIT_S = 10
/** The cursor of a census stage once it counted: the rows are being deleted. */
const DELETING = 'deleting'

export interface TenantContext {
  deps: Deps
  tenantId: string
  /** Finds the tenant's id in text (job errors). */
  m: Matcher
  requestId: string
}

const queueCount = (t: QueueTable) => (t.queue === QUEUES.deadLetters ? 'dead_letters' : t.archive ? 'archived' : 'queued')

const queueStage = (t: QueueTable): Stage<TenantContext> => ({
  name: `queue.${t.archive ? 'a' : 'q'}_${t.queue}`,
  async step({ deps, tenantId, m }, cursor) {
    const visibilityTimeoutS = deps.config.WORKER_VISIBILITY_TIMEOUT_S
    const w = await messagesNamingWindow(deps.tiers.queue, t, tenantId, m, { after: cursor ?? '0', limit: BATCH, visibilityTimeoutS })
    if (w.last === null) return { next: null }
    if (w.hits.some((h) => h.in_flight)) return { next: cursor, waitSeconds: visibilityTimeoutS }
    if (w.hits.length === 0) return { next: w.last }
    const ids = w.hits.map((h) => h.msg_id)
    return { next: w.last, pending: { op: 'queue.delete', args: { table: t, ids }, counts: { queue: { [queueCount(t)]: ids.length } } } }
  },
})

/** Counts the tenant's rows of a table, then deletes them a batch per step. */
const censusStage = (
  tier: 'analytics' | 'content',
  table: string,
  count: (ctx: TenantContext) => Promise<Record<string, number>>,
  purge: (ctx: TenantContext) => Promise<number>,
): Stage<TenantContext> => ({
  name: `${tier}.${table}`,
  async step(ctx, cursor) {
    if (cursor === null) {
      const counts = await count(ctx)
      return { next: Object.values(counts).some((n) => n > 0) ? DELETING : null, counts: { [tier]: counts } }
    }
    return { next: (await purge(ctx)) < BATCH ? null : DELETING }
  },
})

const oltpStage = (table: (typeof OLTP_TABLES)[number]): Stage<TenantContext> => ({
  name: `oltp.${table}`,
  async step({ tenantId, requestId }) {
    return {
      next: null,
      oltp: async (tx) => {
        const n = await deleteOltp(tx, table, tenantId, requestId, BATCH)
        return { counts: { oltp: { [table]: n } }, next: n < BATCH ? null : DELETING }
      },
    }
  },
})

const STAGES: Stage<TenantContext>[] = [
  {
    // Crypto-shredding, before anything else: from here on the tenant's content cannot be read from
    // this database, its replicas or any backup taken later, even while its rows wait to be deleted.
    name: 'content.data_key',
    async step({ deps, tenantId }) {
      await destroyTenantKey(deps.tiers.content, tenantId)
      deps.contentKeys.forget(tenantId)
      return { next: null }
    },
  },
  {
    name: 'oltp.outbox',
    async step({ deps, tenantId }) {
      const rows = await outboxOfTenant(deps.tiers.oltp, tenantId)
      if (rows.some((r) => r.claimed)) return { next: null, waitSeconds: OUTBOX_WAIT_S }
      return { next: null, oltp: async (tx) => ({ counts: { oltp: { outbox: await deleteOutboxRows(tx, tenantId, rows.map((r) => r.id)) } } }) }
    },
  },
  ...MESSAGE_TABLES.map(queueStage),
  {
    name: 'queue.job_logs',
    async step({ deps, m }, cursor) {
      const w = await jobLogsNamingWindow(deps.tiers.queue, m, cursor ?? '0', BATCH)
      if (w.last === null) return { next: null }
      if (w.hits.length === 0) return { next: w.last }
      const ids = w.hits.map((h) => h.id)
      return { next: w.last, pending: { op: 'queue.redact_job_logs', args: { ids }, counts: { queue: { job_logs: ids.length } } } }
    },
  },
  ...ANALYTICS_TABLES.map((table) =>
    censusStage(
      'analytics',
      table,
      async ({ deps, tenantId }) => ({ [table]: await countAnalytics(deps.tiers.analytics, table, tenantId) }),
      ({ deps, tenantId }) => deleteAnalytics(deps.tiers.analytics, table, tenantId, BATCH),
    ),
  ),
  ...CONTENT_TABLES.map((table) =>
    censusStage(
      'content',
      table,
      ({ deps, tenantId }) => countContent(deps.tiers.content, table, tenantId),
      ({ deps, tenantId }) => deleteContent(deps.tiers.content, table, tenantId, BATCH),
    ),
  ),
  {
    // The destroyed key's row goes once no content row of the tenant is left (it keeps a write that slipped in from making a new key).
    name: 'content.tenant_keys',
    async step({ deps, tenantId }) {
      await deleteTenantKey(deps.tiers.content, tenantId)
      return { next: null }
    },
  },
  ...OLTP_TABLES.map(oltpStage),
]

export const tenantPlan: Plan<TenantContext> = {
  context: (deps, req: ErasureRequestRow) => ({ deps, tenantId: req.tenant_id, m: textMatcher(req.tenant_id), requestId: req.id }),
  stages: STAGES,
  apply: {
    'queue.delete': ({ deps }, a: { table: QueueTable; ids: string[] }) => deleteMessages(deps.tiers.queue, a.table, a.ids),
    'queue.redact_job_logs': ({ deps, m }, a: { ids: string[] }) => redactJobLogs(deps.tiers.queue, a.ids, m),
  },
  async finish(tx, { tenantId }, req) {
    await deleteTenant(tx, tenantId)
    await insertAudit(tx, {
      tenantId,
      actor: req.requested_by,
      action: 'tenant.deleted',
      targetType: 'erasure_request',
      targetId: req.id,
      detail: { kind: 'tenant', counts: req.counts },
    })
  },
}
