/**
 * oltp.audit_log: who changed what, when, through which request, and how it ended. Append-only:
 * a trigger (sql/oltp/0014_audit_trail.sql) refuses UPDATE and DELETE unless the transaction is
 * one of the three maintenance paths, which say so with allowAuditMaintenance: retention pruning
 * (pruneAuditLog), tenant deletion (tenant-purge.ts) and person-erasure redaction
 * (person-erasure.ts). Nothing else in the code changes a row once written.
 */
import { pruneOldestById, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Db, Queryable } from '../../db/types.ts'
import { NIL_UUID } from '../../ids.ts'

/**
 * The tenant_id of an operator's entry, which belongs to no tenant: the nil uuid, never NULL (on
 * Citus it is the distribution column). Entries read back with tenant_id null.
 */
export const NO_TENANT = NIL_UUID

/**
 * Declares the caller's transaction one of the three paths allowed to change audit rows; ends with
 * it. SET LOCAL rather than set_config: on Citus the trigger runs on the workers' shards, and
 * citus.propagate_set_commands = local sends a transaction's SET LOCAL commands to them (elsewhere
 * that setting is an unused placeholder).
 */
export async function allowAuditMaintenance(tx: Queryable): Promise<void> {
  await tx.exec(`SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL edp.audit_maintenance = 'on'`)
}

/** Audit rows created before `cutoff`, a bounded batch by primary key, in a transaction of its own that may delete them. */
export const pruneAuditLog = (db: Db, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  db.transaction(async (tx) => {
    await allowAuditMaintenance(tx)
    return pruneOldestById(tx, { table: 'oltp.audit_log', timeColumn: 'created' }, cutoff, after, limit)
  })

export const OUTCOMES = ['succeeded', 'started', 'rejected', 'failed'] as const
export type Outcome = (typeof OUTCOMES)[number]

export interface AuditEntry {
  tenantId: string | null
  actor: string
  action: string
  targetType: string | null
  targetId: string | null
  detail: unknown
  /** The request that made the change; null for workers and the CLI. */
  requestId?: string | null
  outcome?: Outcome
}

/** Records who did what, in the caller's transaction (so the change and its record commit together). */
export async function insertAudit(q: Queryable, e: AuditEntry): Promise<void> {
  await insertAudits(q, [e])
}

/**
 * Several entries in one statement (a batch of messages, of events): one round trip however many.
 * A multi-row VALUES: on Citus each row goes straight to its tenant's shard (INSERT … SELECT FROM
 * unnest would go through the coordinator); one statement text per count, each prepared once.
 */
export async function insertAudits(q: Queryable, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return
  const params: unknown[] = []
  const p = (v: unknown) => `$${params.push(v)}`
  const values = entries.map(
    (e) =>
      `(${p(e.tenantId ?? NO_TENANT)}::uuid, ${p(e.actor)}, ${p(e.action)}, ${p(e.targetType)}, ${p(e.targetId)}, ` +
      `${p(json(e.detail))}::jsonb, ${p(e.requestId ?? null)}, ${p(e.outcome ?? 'succeeded')})`,
  )
  await q.query(`INSERT INTO oltp.audit_log (tenant_id, actor, action, target_type, target_id, detail, request_id, outcome) VALUES ${values.join(', ')}`, params)
}

const json = (detail: unknown) => (detail === null || detail === undefined ? null : JSON.stringify(detail))

export interface AuditRow {
  id: string
  tenant_id: string | null
  actor: string
  action: string
  target_type: string | null
  target_id: string | null
  detail: unknown
  request_id: string | null
  outcome: Outcome
  created: Date
}

export interface AuditFilter {
  /** undefined: every tenant (the operator's listing). */
  tenantId?: string
  action?: string
  from?: Date
  to?: Date
  /** The id of the last row of the previous page. */
  before?: string
  limit: number
}

/**
 * Entries newest first by id, limit + 1. Only the conditions given go into the SQL (each
 * combination its own prepared plan, as src/db/keyset.ts explains): with a tenant the walk is on
 * audit_log_tenant_id or, with an action, audit_log_tenant_action; across tenants on the primary
 * key or audit_log_action. The time range filters that walk (ids follow time).
 */
export function listAudit(q: Queryable, f: AuditFilter): Promise<AuditRow[]> {
  const params: unknown[] = []
  const where: string[] = []
  const add = (sql: (p: string) => string, value: unknown) => where.push(sql(`$${params.push(value)}`))
  if (f.tenantId !== undefined) add((p) => `tenant_id = ${p}::uuid`, f.tenantId)
  if (f.action !== undefined) add((p) => `action = ${p}`, f.action)
  if (f.from !== undefined) add((p) => `created >= ${p}`, f.from)
  if (f.to !== undefined) add((p) => `created < ${p}`, f.to)
  if (f.before !== undefined) add((p) => `id < ${p}::bigint`, f.before)
  // id is selected as it is (int8 arrives as a decimal string from both drivers): a text alias
  // named id would sort 9 before 12, and Citus sends a qualified audit_log.id to the shard unqualified.
  return q.query<AuditRow>(
    `SELECT id, nullif(tenant_id, '${NO_TENANT}') AS tenant_id, actor, action, target_type, target_id, detail, request_id, outcome, created
       FROM oltp.audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT $${params.push(f.limit + 1)}`,
    params,
  )
}
