/**
 * The audit trail: one oltp.audit_log row per state change, written in the OLTP transaction that
 * makes the change, so both commit or neither does. A change in another tier (content, analytics,
 * queue) cannot share that transaction, so it is bracketed instead (`bracketed`): an intent row
 * (outcome `started`) commits in OLTP before the change, and a second row with the outcome after
 * it. A crash can then leave an intent without its change, never a change without a record.
 *
 * Who acts comes from the request's scope (`withAuditScope`, opened by the HTTP layer after the
 * credential is checked): `api_key:<api key id>` or `admin`; outside a request, `system` (workers)
 * unless the caller names one (the CLI says `admin`). The request id is the server's own
 * (src/request-context.ts), which every log line of the request carries too.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import type { Deps } from '../deps.ts'
import type { Db, Queryable } from '../db/types.ts'
import { currentRequestIds, type RequestIds } from '../request-context.ts'
import { invalid } from '../errors.ts'
import { pagedBySerial, type PageRequest } from '../pagination.ts'
import { insertAudits, listAudit, type AuditEntry, type Outcome } from '../tiers/oltp/audit-log.ts'

export interface AuditScope {
  /** `api_key:<api key id>`, `admin`, `webhook:<provider>`. */
  actor: string
  /** The HTTP layer records a refused or failed request itself, with its status (src/http/audit-trail.ts). */
  recordsFailures?: boolean
}

const scope = new AsyncLocalStorage<AuditScope>()

/** Runs fn (and all it awaits) with this actor recorded on the audit rows it writes. */
export function withAuditScope<T>(s: AuditScope, fn: () => T): T {
  const ids = currentRequestIds()
  if (ids) actors.set(ids, s.actor)
  return scope.run(s, fn)
}

export const apiKeyActor = (keyId: string) => `api_key:${keyId}`
export const ADMIN_ACTOR = 'admin'
const SYSTEM_ACTOR = 'system'

export interface Change {
  tenantId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  detail?: unknown
  /** Overrides the scope's actor (the CLI, a job acting for a request). */
  actor?: string
  outcome?: Outcome
}

function entry(c: Change): AuditEntry {
  return {
    tenantId: c.tenantId,
    actor: c.actor ?? actorOf(currentRequestIds()),
    action: c.action,
    targetType: c.targetType,
    targetId: c.targetId,
    detail: c.detail ?? null,
    requestId: currentRequestIds()?.request_id ?? null,
    outcome: c.outcome ?? 'succeeded',
  }
}

/** The fields a change set (their names only: values may name a person, and the row keeps its own). */
export const changed = (patch: object) => ({ fields: Object.keys(patch).filter((k) => (patch as Record<string, unknown>)[k] !== undefined) })

/** Records a change in the caller's OLTP transaction: it commits (or rolls back) with the change. */
export async function audit(tx: Queryable, c: Change): Promise<void> {
  await insertAudits(tx, [entry(c)])
}

/** Several changes in one statement (a batch of messages or events). */
export async function auditMany(tx: Queryable, changes: readonly Change[]): Promise<void> {
  await insertAudits(tx, changes.map(entry))
}

/** Runs an OLTP change and its record in one transaction; `record` describes the change from its result. */
export function audited<T>(db: Db, change: (tx: Queryable) => Promise<T>, record: (result: T) => Change | null): Promise<T> {
  return db.transaction(async (tx) => {
    const result = await change(tx)
    const c = record(result)
    if (c) await audit(tx, c)
    return result
  })
}

/** What a test injects to crash between a bracketed change's intent and the change itself. */
export interface BracketFaults {
  afterIntent?: () => void | Promise<void>
}

/**
 * A change outside OLTP, recorded so that a crash cannot lose it: the intent (`started`) commits
 * first; then the change; then `succeeded`, or `failed` if the change threw (the error goes on;
 * in a request, the HTTP layer records the failure with its status instead). A crash after the change but before the second row leaves the intent, which says the change
 * may have happened: the record errs towards over-reporting, never towards silence.
 */
export async function bracketed<T>(deps: Deps, c: Change, change: () => Promise<T>, faults?: BracketFaults, describe?: (r: T) => Partial<Change>): Promise<T> {
  await audit(deps.tiers.oltp, { ...c, outcome: 'started' })
  await faults?.afterIntent?.()
  let result: T
  try {
    result = await change()
  } catch (err) {
    if (!scope.getStore()?.recordsFailures) await audit(deps.tiers.oltp, { ...c, outcome: 'failed' }).catch(() => {})
    throw err
  }
  await audit(deps.tiers.oltp, { ...c, ...describe?.(result), outcome: 'succeeded' })
  return result
}

/**
 * A state-changing request that was refused (4xx: `rejected`) or failed (5xx: `failed`), recorded
 * after its answer in a statement of its own: its change rolled back (or never started).
 */
export async function recordRefusal(
  deps: Deps,
  r: { tenantId: string | null; actor: string; action: string; targetType: string | null; targetId: string | null; status: number; code?: string },
): Promise<void> {
  await audit(deps.tiers.oltp, {
    tenantId: r.tenantId,
    actor: r.actor,
    action: r.action,
    targetType: r.targetType,
    targetId: r.targetId,
    detail: { status: r.status, ...(r.code ? { code: r.code } : {}) },
    outcome: r.status >= 500 ? 'failed' : 'rejected',
  })
}

/** The actor of each request scope, by its RequestIds object: a group commit writes other requests' messages in its own flush. */
const actors = new WeakMap<object, string>()

function actorOf(ids: RequestIds | undefined): string {
  return (ids && actors.get(ids)) ?? scope.getStore()?.actor ?? SYSTEM_ACTOR
}

/**
 * message.create, one row per message created (a redelivered inbound copy changed nothing), in
 * the transaction that commits the refs; each names its own request and actor, so a group commit
 * can pass many writes of many requests. One multi-row INSERT: the measured cost is in the README.
 */
export async function auditMessagesCreated(
  tx: Queryable,
  writes: readonly { tenantId: string; m: { id: string; direction: string }; requestIds: RequestIds | undefined }[],
  written: readonly { created: boolean }[],
): Promise<void> {
  const rows: AuditEntry[] = []
  for (const [i, p] of writes.entries()) {
    if (!written[i]?.created) continue
    rows.push({
      tenantId: p.tenantId,
      actor: actorOf(p.requestIds),
      action: 'message.create',
      targetType: 'message',
      targetId: p.m.id,
      detail: { direction: p.m.direction },
      requestId: p.requestIds?.request_id ?? null,
      outcome: 'succeeded',
    })
  }
  await insertAudits(tx, rows)
}

/** event.create for one request's accepted events: one intent and one outcome row per request, bracketing the send to the queue tier. */
export const auditEventsAccepted = (deps: Deps, tenantId: string, counts: { accepted: number; rejected: number }, send: () => Promise<unknown>) =>
  bracketed(deps, { tenantId, action: 'event.create', targetType: 'event_batch', targetId: null, detail: counts }, send)

export interface AuditQuery {
  action?: string
  from?: Date
  to?: Date
}

/** A tenant's audit entries (tenantId), or every tenant's (null, the operator's), newest first. */
export function listAuditEntries(deps: Deps, tenantId: string | null, q: AuditQuery, page: PageRequest) {
  if (q.from && q.to && q.from.getTime() >= q.to.getTime()) throw invalid('from must be before to', 'from', 'must be before to')
  return pagedBySerial(page, (keyset) => listAudit(deps.tiers.oltp, { tenantId: tenantId ?? undefined, ...q, ...keyset }))
}
