/**
 * Erasure requests (src/services/erasure decides): made once per person or tenant while one is
 * unfinished, read by the API, and moved on by the erasure.run job one step at a time. Every
 * step locks the row at the version it read: a second copy of the job that read the same version
 * finds it gone and stops, so no step is taken twice.
 */
import type { Queryable } from '../../db/types.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { erasureRequests } from './schema.ts'

export type ErasureRequestRow = typeof erasureRequests.$inferSelect
export type ErasureKind = ErasureRequestRow['kind']

/** Counts per tier and per thing erased. */
export type TierCounts = Record<string, Record<string, number>>

const COLUMNS = selectList(erasureRequests)

export interface NewErasureRequest {
  id: string
  tenantId: string
  kind: ErasureKind
  emailSha256: string | null
  email: string | null
  leadId: string | null
  requestedBy: string
  stage: string
  counts: TierCounts
}

/**
 * Records a request; when one for the same person (or tenant) is unfinished, nothing is written
 * and that one is returned instead (`created: false`).
 */
export async function insertErasureRequest(q: Queryable, r: NewErasureRequest): Promise<{ row: ErasureRequestRow; created: boolean }> {
  const [row] = await q.query<ErasureRequestRow>(
    `INSERT INTO oltp.erasure_requests (id, tenant_id, kind, email_sha256, email, lead_id, requested_by, stage, counts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)
     ON CONFLICT (tenant_id, kind, coalesce(email_sha256, '')) WHERE status <> 'completed' DO NOTHING
     RETURNING ${COLUMNS}`,
    [r.id, r.tenantId, r.kind, r.emailSha256, r.email, r.leadId, r.requestedBy, r.stage, JSON.stringify(r.counts)],
  )
  if (row) return { row, created: true }
  const [existing] = await q.query<ErasureRequestRow>(
    `SELECT ${COLUMNS} FROM oltp.erasure_requests
      WHERE tenant_id = $1 AND kind = $2 AND coalesce(email_sha256, '') = coalesce($3, '') AND status <> 'completed'`,
    [r.tenantId, r.kind, r.emailSha256],
  )
  if (!existing) throw new Error('an unfinished erasure request conflicted but is not there')
  return { row: existing, created: false }
}

/**
 * By id alone: the job's payload names the request, not its tenant (a deletion must not find its
 * own job). On a cluster this one read asks every shard; the steps after it name the tenant.
 */
export async function getErasureRequest(q: Queryable, id: string): Promise<ErasureRequestRow | undefined> {
  const rows = await q.query<ErasureRequestRow>(`SELECT ${COLUMNS} FROM oltp.erasure_requests WHERE id = $1`, [id])
  return rows[0]
}

export async function getTenantErasureRequest(q: Queryable, tenantId: string, kind: ErasureKind, id: string) {
  const rows = await q.query<ErasureRequestRow>(
    `SELECT ${COLUMNS} FROM oltp.erasure_requests WHERE tenant_id = $1 AND kind = $2 AND id = $3`,
    [tenantId, kind, id],
  )
  return rows[0]
}

/** The newest deletion request of a tenant (the tenant row itself may be gone). */
export async function latestTenantDeletion(q: Queryable, tenantId: string): Promise<ErasureRequestRow | undefined> {
  const rows = await q.query<ErasureRequestRow>(
    `SELECT ${COLUMNS} FROM oltp.erasure_requests WHERE tenant_id = $1 AND kind = 'tenant' ORDER BY id DESC LIMIT 1`,
    [tenantId],
  )
  return rows[0]
}

export function listPersonErasures(q: Queryable, tenantId: string, page: { limit: number; before?: string }) {
  return keysetList<ErasureRequestRow>(q, {
    from: 'oltp.erasure_requests',
    select: COLUMNS,
    tenantId,
    where: [{ sql: (p) => `kind = ${p}`, value: 'person' }],
    ...page,
  })
}

/** The request at the version a step read, locked for the step's transaction; undefined once another step moved it. */
export async function lockAtVersion(tx: Queryable, req: RequestKey, version: number): Promise<ErasureRequestRow | undefined> {
  const rows = await tx.query<ErasureRequestRow>(
    `SELECT ${COLUMNS} FROM oltp.erasure_requests WHERE tenant_id = $1 AND id = $2 AND version = $3 FOR UPDATE`,
    [req.tenant_id, req.id, version],
  )
  return rows[0]
}

/** A request's key: its tenant and id. */
export type RequestKey = Pick<ErasureRequestRow, 'tenant_id' | 'id'>

export interface Progress {
  stage: string
  cursor: string | null
  pending: unknown
  counts: TierCounts
}

/** Moves a locked request on: its stage and cursor, the work written ahead, the counts so far. */
export async function saveProgress(tx: Queryable, req: RequestKey, p: Progress): Promise<void> {
  await tx.query(
    `UPDATE oltp.erasure_requests
        SET stage = $2, cursor = $3, pending = $4::jsonb, counts = $5::jsonb, status = 'running', version = version + 1
      WHERE tenant_id = $6 AND id = $1`,
    [req.id, p.stage, p.cursor, p.pending === null ? null : JSON.stringify(p.pending), JSON.stringify(p.counts), req.tenant_id],
  )
}

/** The request is done: the address goes, its hash and the counts stay. */
export async function completeRequest(tx: Queryable, req: RequestKey, counts: TierCounts): Promise<void> {
  await tx.query(
    `UPDATE oltp.erasure_requests
        SET status = 'completed', completed_at = now(), email = NULL, stage = 'done', cursor = NULL, pending = NULL,
            counts = $2::jsonb, version = version + 1
      WHERE tenant_id = $3 AND id = $1`,
    [req.id, JSON.stringify(counts), req.tenant_id],
  )
}
