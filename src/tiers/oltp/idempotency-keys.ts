/**
 * Idempotency keys (src/services/idempotency.ts decides): claim a key, read what holds it, keep a
 * running claim alive, record the answer or let the key go, prune a day's worth. Every write after
 * the claim names its claim_id, so a process whose lapsed claim was taken over cannot overwrite
 * the answer of the request that took it.
 */
import { pruneOldestByTime, type PrunedBatch } from '../../db/prune-batch.ts'
import type { Queryable } from '../../db/types.ts'
import { selectList } from '../columns.ts'
import { idempotencyKeys } from './schema.ts'

export type IdempotencyKeyRow = typeof idempotencyKeys.$inferSelect

const COLUMNS = selectList(idempotencyKeys)

export interface KeyRef {
  tenantId: string
  keyHash: string
}

export interface NewClaim extends KeyRef {
  requestHash: string
  claimId: string
  now: Date
  claimedUntil: Date
  /** A row created before this is past its day: it is claimed again as if new. */
  expiredBefore: Date
}

/**
 * One statement, so two copies of a request racing for one key get exactly one winner on either
 * engine: a new key, a key past its day, or a running claim that lapsed (its process died) is
 * taken; anything else is left alone and nothing is returned.
 */
export async function claimKey(q: Queryable, c: NewClaim): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO oltp.idempotency_keys AS k (tenant_id, key_hash, request_hash, state, claim_id, claimed_until, created)
     VALUES ($1, $2, $3, 'running', $4, $5, $6)
     ON CONFLICT (tenant_id, key_hash) DO UPDATE
        SET request_hash = excluded.request_hash, state = 'running', claim_id = excluded.claim_id,
            claimed_until = excluded.claimed_until, status = NULL, content_type = NULL, response = NULL,
            created = excluded.created
      WHERE k.created < $7 OR (k.state = 'running' AND k.claimed_until < $6)
     RETURNING 1`,
    [c.tenantId, c.keyHash, c.requestHash, c.claimId, c.claimedUntil, c.now, c.expiredBefore],
  )
  return rows.length === 1
}

export async function getKey(q: Queryable, k: KeyRef): Promise<IdempotencyKeyRow | undefined> {
  const rows = await q.query<IdempotencyKeyRow>(
    `SELECT ${COLUMNS} FROM oltp.idempotency_keys WHERE tenant_id = $1 AND key_hash = $2`,
    [k.tenantId, k.keyHash],
  )
  return rows[0]
}

/** Moves a running claim's lapse time on; false when the claim is no longer ours. */
export async function extendClaim(q: Queryable, k: KeyRef, claimId: string, claimedUntil: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE oltp.idempotency_keys SET claimed_until = $4
      WHERE tenant_id = $1 AND key_hash = $2 AND claim_id = $3 AND state = 'running' RETURNING 1`,
    [k.tenantId, k.keyHash, claimId, claimedUntil],
  )
  return rows.length === 1
}

export interface Answer {
  status: number
  contentType: string | null
  /** Sealed; null when too large to keep. */
  response: Uint8Array | null
}

/** The claim's request finished: its answer is kept for replays. */
export async function completeClaim(q: Queryable, k: KeyRef, claimId: string, a: Answer): Promise<boolean> {
  const rows = await q.query(
    `UPDATE oltp.idempotency_keys SET state = 'done', status = $4, content_type = $5, response = $6
      WHERE tenant_id = $1 AND key_hash = $2 AND claim_id = $3 AND state = 'running' RETURNING 1`,
    [k.tenantId, k.keyHash, claimId, a.status, a.contentType, a.response],
  )
  return rows.length === 1
}

/** The claim's request wrote nothing worth replaying (it failed): the key is free again. */
export async function releaseClaim(q: Queryable, k: KeyRef, claimId: string): Promise<void> {
  await q.query(
    `DELETE FROM oltp.idempotency_keys WHERE tenant_id = $1 AND key_hash = $2 AND claim_id = $3 AND state = 'running'`,
    [k.tenantId, k.keyHash, claimId],
  )
}

/** Keys created before the cutoff, oldest first, a bounded batch (src/services/prune.ts). */
export const pruneIdempotencyKeys = (q: Queryable, cutoff: Date, after: string, limit: number): Promise<PrunedBatch> =>
  pruneOldestByTime(q, { table: 'oltp.idempotency_keys', timeColumn: 'created', key: ['tenant_id', 'key_hash'] }, cutoff, after, limit)
