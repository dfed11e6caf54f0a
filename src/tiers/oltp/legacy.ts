/**
 * The legacy migration's state in OLTP (schema.ts: legacy_runs, legacy_batches, legacy_ids): runs,
 * their checkpoints and the id map. A batch's map rows and checkpoint are written in the same
 * transaction as its refs (src/services/legacy-migrate.ts).
 */
import type { Queryable } from '../../db/types.ts'
import { legacyBatches, legacyRuns } from './schema.ts'
import { selectList } from '../columns.ts'
import type { MessageRefRow } from './messages.ts'

export type LegacyRun = typeof legacyRuns.$inferSelect
export type LegacyBatch = typeof legacyBatches.$inferSelect

export interface LegacyIdRow {
  legacy_id: string
  tenant_id: string
  message_id: string
  batch_no: number
  parent_legacy_id: string | null
}

export async function getLegacyRun(q: Queryable, name: string): Promise<LegacyRun | undefined> {
  const rows = await q.query<LegacyRun>(`SELECT ${selectList(legacyRuns)} FROM oltp.legacy_runs WHERE name = $1`, [name])
  return rows[0]
}

export function listLegacyRuns(q: Queryable): Promise<LegacyRun[]> {
  return q.query<LegacyRun>(`SELECT ${selectList(legacyRuns)} FROM oltp.legacy_runs ORDER BY created, name`)
}

export async function insertLegacyRun(q: Queryable, r: Pick<LegacyRun, 'name' | 'source' | 'mapping' | 'tenant_id'>): Promise<void> {
  await q.query(`INSERT INTO oltp.legacy_runs (name, source, mapping, tenant_id) VALUES ($1, $2, $3::jsonb, $4)`, [
    r.name,
    r.source,
    JSON.stringify(r.mapping),
    r.tenant_id,
  ])
}

/** A run's committed batches in order; the last one is the checkpoint. */
export function listLegacyBatches(q: Queryable, run: string): Promise<LegacyBatch[]> {
  return q.query<LegacyBatch>(`SELECT ${selectList(legacyBatches)} FROM oltp.legacy_batches WHERE run = $1 ORDER BY batch_no`, [run])
}

export async function lastLegacyBatch(q: Queryable, run: string): Promise<LegacyBatch | undefined> {
  const rows = await q.query<LegacyBatch>(
    `SELECT ${selectList(legacyBatches)} FROM oltp.legacy_batches WHERE run = $1 ORDER BY batch_no DESC LIMIT 1`,
    [run],
  )
  return rows[0]
}

export async function insertLegacyBatch(
  q: Queryable,
  b: Pick<LegacyBatch, 'run' | 'batch_no' | 'first_key' | 'last_key' | 'rows' | 'expired'>,
): Promise<void> {
  await q.query(
    `INSERT INTO oltp.legacy_batches (run, batch_no, first_key, last_key, rows, expired) VALUES ($1, $2, $3, $4, $5, $6)`,
    [b.run, b.batch_no, b.first_key, b.last_key, b.rows, b.expired],
  )
}

export async function markLegacyBatchDated(q: Queryable, run: string, batchNo: number): Promise<void> {
  await q.query(`UPDATE oltp.legacy_batches SET dated = true WHERE run = $1 AND batch_no = $2`, [run, batchNo])
}

export async function insertLegacyIds(q: Queryable, run: string, rows: readonly LegacyIdRow[]): Promise<void> {
  if (rows.length === 0) return
  await q.query(
    `INSERT INTO oltp.legacy_ids (run, legacy_id, tenant_id, message_id, batch_no, parent_legacy_id)
     SELECT $1, * FROM unnest($2::text[], $3::uuid[], $4::uuid[], $5::int[], $6::text[])`,
    [
      run,
      rows.map((r) => r.legacy_id),
      rows.map((r) => r.tenant_id),
      rows.map((r) => r.message_id),
      rows.map((r) => r.batch_no),
      rows.map((r) => r.parent_legacy_id),
    ],
  )
}

/** The map rows of these legacy ids in a run (parents, and what verification looks up). */
export function findLegacyIds(q: Queryable, run: string, legacyIds: readonly string[]): Promise<LegacyIdRow[]> {
  if (legacyIds.length === 0) return Promise.resolve([])
  return q.query<LegacyIdRow>(
    `SELECT legacy_id, tenant_id, message_id, batch_no, parent_legacy_id FROM oltp.legacy_ids WHERE run = $1 AND legacy_id = ANY($2::text[])`,
    [run, legacyIds],
  )
}

/**
 * Links every ref of the run that waits for one of these legacy rows as its thread parent, now
 * that they are migrated (same tenant only), and clears the wait. Returns how many were linked.
 */
export async function linkPendingParents(q: Queryable, run: string, arrived: readonly string[]): Promise<number> {
  const rows = await q.query(
    `WITH linked AS (
       UPDATE oltp.inbox_message_refs r SET parent_message_id = p.message_id, updated = now()
         FROM oltp.legacy_ids c
         JOIN oltp.legacy_ids p ON p.run = c.run AND p.legacy_id = c.parent_legacy_id AND p.tenant_id = c.tenant_id
        WHERE c.run = $1 AND c.parent_legacy_id = ANY($2::text[]) AND r.tenant_id = c.tenant_id AND r.id = c.message_id
       RETURNING c.legacy_id)
     UPDATE oltp.legacy_ids SET parent_legacy_id = NULL WHERE run = $1 AND legacy_id IN (SELECT legacy_id FROM linked)
     RETURNING legacy_id`,
    [run, arrived],
  )
  return rows.length
}

/** Up to `limit` migrated messages, of one tenant or of all, to roll back. */
export function migratedMessages(q: Queryable, tenantId: string | null, limit: number) {
  return q.query<{ run: string; tenant_id: string; message_id: string }>(
    `SELECT run, tenant_id, message_id FROM oltp.legacy_ids WHERE ($1::uuid IS NULL OR tenant_id = $1)
      ORDER BY tenant_id, message_id LIMIT $2`,
    [tenantId, limit],
  )
}

/**
 * Deletes migrated refs and their map rows. Any other ref pointing at one of them as its parent
 * (a reply written through the API during the parallel run) loses that link and stays.
 */
export async function deleteMigratedRefs(q: Queryable, tenantId: string, messageIds: readonly string[]): Promise<void> {
  await q.query(
    `UPDATE oltp.inbox_message_refs SET parent_message_id = NULL, updated = now()
      WHERE tenant_id = $1 AND parent_message_id = ANY($2::uuid[]) AND NOT (id = ANY($2::uuid[]))`,
    [tenantId, messageIds],
  )
  await q.query(`DELETE FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, messageIds])
  await q.query(`DELETE FROM oltp.legacy_ids WHERE tenant_id = $1 AND message_id = ANY($2::uuid[])`, [tenantId, messageIds])
}

/** Runs that no longer map any message lose their batches and themselves: a new migrate starts over. */
export async function deleteEmptyLegacyRuns(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `DELETE FROM oltp.legacy_runs r WHERE NOT EXISTS (SELECT 1 FROM oltp.legacy_ids i WHERE i.run = r.name) RETURNING name`,
  )
  return rows.map((r) => r.name)
}

/** Of these tenant ids, those OLTP does not know. */
export async function missingTenants(q: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return []
  const rows = await q.query<{ id: string }>(
    `SELECT t.id FROM unnest($1::uuid[]) AS t(id) WHERE NOT EXISTS (SELECT 1 FROM oltp.tenants x WHERE x.id = t.id)`,
    [ids],
  )
  return rows.map((r) => r.id)
}

/**
 * Of these (tenant, mailbox id) pairs, those OLTP does not know: one lookup per tenant (a router
 * query on a cluster, where a correlated subquery over a list of pairs cannot run).
 */
export async function missingEmailAccounts(q: Queryable, pairs: readonly { tenant_id: string; id: string }[]) {
  const missing: { tenant_id: string; id: string }[] = []
  for (const [tenantId, mine] of Map.groupBy(pairs, (p) => p.tenant_id)) {
    const ids = [...new Set(mine.map((p) => p.id))]
    const known = await q.query<{ id: string }>(`SELECT id FROM oltp.email_accounts WHERE tenant_id = $1 AND id = ANY($2::uuid[])`, [tenantId, ids])
    const have = new Set(known.map((r) => r.id))
    for (const id of ids) if (!have.has(id)) missing.push({ tenant_id: tenantId, id })
  }
  return missing
}

/** The messages one batch of a run created. */
export function legacyIdsOfBatch(q: Queryable, run: string, batchNo: number): Promise<LegacyIdRow[]> {
  return q.query<LegacyIdRow>(
    `SELECT legacy_id, tenant_id, message_id, batch_no, parent_legacy_id FROM oltp.legacy_ids WHERE run = $1 AND batch_no = $2`,
    [run, batchNo],
  )
}

/** A row follow found below the checkpoint (inserted late, or with a lower key) joins the batch whose key range holds it. */
export async function growLegacyBatch(q: Queryable, run: string, batchNo: number, rows: number, expired: number): Promise<void> {
  await q.query(`UPDATE oltp.legacy_batches SET rows = rows + $3, expired = expired + $4, dated = false WHERE run = $1 AND batch_no = $2`, [
    run,
    batchNo,
    rows,
    expired,
  ])
}

export type MigratedRefUpdate = Pick<
  MessageRefRow,
  | 'id'
  | 'email_account_id'
  | 'campaign_id'
  | 'sequence_step_id'
  | 'lead_id'
  | 'parent_message_id'
  | 'direction'
  | 'message_type'
  | 'from_email'
  | 'to_email'
  | 'subject'
  | 'status'
  | 'rfc822_message_id'
  | 'created'
>

/**
 * A legacy row changed after it was migrated (legacy follow): its ref takes the new metadata in
 * one statement for the batch; id, tenant and storage key stay. Returns the ids updated.
 */
export async function updateMigratedRefs(q: Queryable, tenantId: string, refs: readonly MigratedRefUpdate[]): Promise<string[]> {
  if (refs.length === 0) return []
  const col = <K extends keyof MigratedRefUpdate>(k: K) => refs.map((r) => r[k])
  const rows = await q.query<{ id: string }>(
    `UPDATE oltp.inbox_message_refs r
        SET email_account_id = u.email_account_id, campaign_id = u.campaign_id, sequence_step_id = u.sequence_step_id,
            lead_id = u.lead_id, parent_message_id = u.parent_message_id, direction = u.direction, message_type = u.message_type,
            from_email = u.from_email, to_email = u.to_email, subject = u.subject, status = u.status,
            rfc822_message_id = u.rfc822_message_id, created = u.created, updated = now()
       FROM unnest($2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::text[],
                   $11::text[], $12::text[], $13::text[], $14::text[], $15::timestamptz[])
         AS u(id, email_account_id, campaign_id, sequence_step_id, lead_id, parent_message_id, direction, message_type,
              from_email, to_email, subject, status, rfc822_message_id, created)
      WHERE r.tenant_id = $1 AND r.id = u.id
     RETURNING r.id`,
    [
      tenantId,
      col('id'),
      col('email_account_id'),
      col('campaign_id'),
      col('sequence_step_id'),
      col('lead_id'),
      col('parent_message_id'),
      col('direction'),
      col('message_type'),
      col('from_email'),
      col('to_email'),
      col('subject'),
      col('status'),
      col('rfc822_message_id'),
      refs.map((r) => r.created.toISOString()),
    ],
  )
  return rows.map((r) => r.id)
}

/** `n` of a run's migrated messages of one tenant at random (the shadow read's sample). */
export function sampleMigrated(q: Queryable, run: string, tenantId: string, n: number): Promise<LegacyIdRow[]> {
  return q.query<LegacyIdRow>(
    `SELECT legacy_id, tenant_id, message_id, batch_no, parent_legacy_id FROM oltp.legacy_ids
      WHERE run = $1 AND tenant_id = $2 ORDER BY random() LIMIT $3`,
    [run, tenantId, n],
  )
}

/**
 * Serialises the refs transactions of one run (until commit): batches run in parallel by queue
 * workers would otherwise miss a thread link, each not yet seeing the other's parent or child.
 */
export async function lockLegacyRun(q: Queryable, run: string): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`edp.legacy:${run}`])
}
