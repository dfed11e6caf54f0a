/**
 * The legacy application's queries for the screens the benchmark compares. Listings select the
 * metadata columns only (a legacy application that selected * would fare worse); a message fetch
 * reads its bodies from the same row.
 */
import type { Queryable } from '../../src/db/types.ts'

const META = `id, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, parent_message_id, direction,
  message_type, from_email, to_email, subject, status, message_id, created, updated`

export const legacyQueries = {
  inbox: (q: Queryable, tenantId: string, emailAccountId: string, limit = 50) =>
    q.query(
      `SELECT ${META} FROM legacy.emails WHERE tenant_id = $1 AND email_account_id = $2 ORDER BY created DESC LIMIT $3`,
      [tenantId, emailAccountId, limit + 1],
    ),

  lead: (q: Queryable, tenantId: string, leadId: string, limit = 50) =>
    q.query(`SELECT ${META} FROM legacy.emails WHERE tenant_id = $1 AND lead_id = $2 ORDER BY created DESC LIMIT $3`, [
      tenantId,
      leadId,
      limit + 1,
    ]),

  thread: (q: Queryable, tenantId: string, id: string) =>
    q.query(
      `WITH RECURSIVE up AS (
          SELECT id, parent_message_id, 0 AS depth FROM legacy.emails WHERE tenant_id = $1 AND id = $2
          UNION ALL
          SELECT p.id, p.parent_message_id, up.depth + 1 FROM legacy.emails p JOIN up ON p.id = up.parent_message_id
           WHERE up.depth < 1000
        ), root AS (SELECT id FROM up ORDER BY depth DESC LIMIT 1),
        down AS (
          SELECT e.id, 0 AS depth FROM legacy.emails e JOIN root ON e.id = root.id
          UNION ALL
          SELECT c.id, down.depth + 1 FROM legacy.emails c JOIN down ON c.parent_message_id = down.id WHERE down.depth < 1000
        )
        SELECT ${META.split(',').map((c) => `m.${c.trim()}`).join(', ')} FROM legacy.emails m JOIN down ON m.id = down.id
         WHERE m.tenant_id = $1 ORDER BY m.created`,
      [tenantId, id],
    ),

  /** Messages of a campaign by status, counted at read time: the legacy design has no analytics tier. */
  campaignCounts: (q: Queryable, tenantId: string, campaignId: string) =>
    q.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM legacy.emails WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY status`,
      [tenantId, campaignId],
    ),

  message: async (q: Queryable, tenantId: string, id: string) => {
    const rows = await q.query(`SELECT * FROM legacy.emails WHERE id = $1 AND tenant_id = $2`, [id, tenantId])
    return rows[0]
  },
}

/** The same campaign count on the 4-tier refs table (what the 4-tier design does not need to run). */
export const refsCampaignCounts = (q: Queryable, tenantId: string, campaignId: string) =>
  q.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND campaign_id = $2 GROUP BY status`,
    [tenantId, campaignId],
  )
