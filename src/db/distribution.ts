/**
 * How the OLTP and content tiers lie on a Citus cluster. Every tenant row is distributed by
 * tenant_id, and each tier's distributed tables are co-located, so one tenant's rows of every
 * table share a shard and each hot query is routed to exactly one (tests/citus/router-plans.test.ts
 * checks the plans). `tenants` and `api_keys` are reference tables, copied to every node: every
 * tenant row's foreign key names tenants, and a request's key is looked up by its hash before its
 * tenant is known. A few tables stay on the coordinator, each for the reason beside it.
 *
 * The same migrations run on PGlite, plain PostgreSQL and Citus. When the citus extension is in the
 * tier's database, migrateTier (src/db/migrate.ts) then distributes whatever is not yet
 * distributed, so a fresh cluster gets its layout, and a table a later migration adds gets its place
 * the next time migrations run (tests/distribution-layout.test.ts fails until LAYOUT names it).
 * The shard count is Citus's own setting: `ALTER DATABASE … SET citus.shard_count = N` before the
 * first migration (README, "Running on a Citus cluster").
 */
import type { Queryable } from './types.ts'
import type { TierName } from './tier-names.ts'

export interface TierLayout {
  /** Copied to every node. In an order that lets each one's foreign keys be made. */
  reference: readonly string[]
  /** Distributed by tenant_id and co-located with the first; referenced tables before the tables naming them. */
  distributed: readonly string[]
  /** Plain tables on the coordinator, and why they are not distributed. */
  coordinator: Readonly<Record<string, string>>
}

export const LAYOUT: Partial<Record<TierName, TierLayout>> = {
  oltp: {
    reference: ['oltp.tenants', 'oltp.api_keys'],
    distributed: [
      'oltp.email_accounts',
      'oltp.users',
      'oltp.campaigns',
      'oltp.sequence_steps',
      'oltp.leads',
      'oltp.inbox_message_refs',
      'oltp.suppressions',
      'oltp.soft_bounce_streaks',
      'oltp.webhook_receipts',
      'oltp.webhook_settings',
      'oltp.idempotency_keys',
      'oltp.erasure_requests',
      // A message write's ref, outbox row and audit row share the tenant's shard: one shard's
      // transaction, no two-phase commit. The relay claims per tenant on a cluster
      // (src/services/outbox.ts); an operator's audit entry names the nil uuid (NO_TENANT).
      'oltp.outbox',
      'oltp.audit_log',
    ],
    coordinator: {
      'oltp.rate_buckets': "keyed by API key, unlogged, one small row per key: it is the API's rate limit, not tenant data",
      'oltp.legacy_runs': "the legacy migration's bookkeeping: a run spans tenants",
      'oltp.legacy_batches': "the legacy migration's checkpoints, one per batch of a run",
      'oltp.legacy_ids': "the legacy migration's id map, looked up by the legacy table's id before its tenant is known",
    },
  },
  content: {
    reference: [],
    distributed: [
      'content.content_objects',
      'content.attachment_blobs',
      'content.attachments',
      'content.transactional_emails',
      'content.notifications',
      'content.retention_policies',
      'content.tenant_keys',
    ],
    coordinator: {},
  },
}

/** Whether the database has the citus extension (a cluster's coordinator). */
export async function hasCitus(q: Queryable): Promise<boolean> {
  const rows = await q.query<{ ok: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') AS ok`)
  return rows[0]?.ok === true
}

/**
 * On a Citus coordinator, makes the tier's tables reference or distributed tables as LAYOUT says,
 * skipping those already done; elsewhere nothing. Run under the migration lock, after the tier's
 * migrations. Returns the tables it changed.
 */
export async function distributeTier(tx: Queryable, tier: TierName): Promise<string[]> {
  const layout = LAYOUT[tier]
  if (!layout || !(await hasCitus(tx))) return []
  const done = new Set(
    (await tx.query<{ name: string }>(`SELECT logicalrelid::regclass::text AS name FROM pg_dist_partition`)).map((r) => r.name),
  )
  // Tables on the coordinator keep their foreign keys to tenants without Citus adopting them.
  await tx.query(`SET LOCAL citus.enable_local_reference_table_foreign_keys TO off`)
  // The audit log's append-only trigger goes to its shards with it: Citus copies a distributed
  // table's triggers only when told to. The trigger reads the transaction's edp.audit_maintenance,
  // which allowAuditMaintenance sends to the workers (src/tiers/oltp/audit-log.ts).
  await tx.query(`SET LOCAL citus.enable_unsafe_triggers TO on`)
  const changed: string[] = []
  for (const table of layout.reference) {
    if (done.has(table)) continue
    await tx.query(`SELECT create_reference_table($1)`, [table])
    changed.push(table)
  }
  const [anchor] = layout.distributed
  for (const table of layout.distributed) {
    if (done.has(table)) continue
    await tx.query(`SELECT create_distributed_table($1, 'tenant_id', colocate_with => $2)`, [table, table === anchor ? 'default' : anchor])
    changed.push(table)
  }
  return changed
}
