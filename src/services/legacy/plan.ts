/**
 * `legacy plan`: what a migration of this table with this mapping would do, read-only on both
 * sides: the column mapping, row and byte counts, legacy values and references that will not map,
 * and how long it should take.
 */
import type { Deps } from '../../deps.ts'
import { isUuid } from '../../ids.ts'
import { mappedColumns } from '../../legacy/mapping.ts'
import type { LegacyReader, TableInfo } from '../../legacy/source.ts'
import { findEmailAccountsByAddress } from '../../tiers/oltp/email-accounts.ts'
import { lastLegacyBatch, listLegacyBatches, missingEmailAccounts, missingTenants } from '../../tiers/oltp/legacy.ts'

/**
 * Messages a second `migrate` reaches unthrottled: 394-468/s measured on the benchmark's messages
 * (38 KB of text and html each) on the 2-core reference machine (README, "Legacy migration").
 * The estimate uses the lower of this and --rate.
 */
export const REFERENCE_RATE = 400

const OURS = { direction: ['inbound', 'outbound'], message_type: ['email', 'bounce', 'auto_reply'] } as const

export interface VocabularyLine {
  setting: string
  value: string | null
  rows: number
  /** What it becomes; null: it will not map (migrate stops at the first such row). */
  becomes: string | null
}

export interface LegacyPlan {
  table: string
  columns: [setting: string, column: string][]
  unmapped_columns: string[]
  rows: number
  bytes: number
  attachment_bytes: number | null
  oldest: Date | null
  newest: Date | null
  vocabularies: VocabularyLine[]
  unknown_tenants: string[]
  unknown_mailboxes: { tenant_id: string; mailbox: string; rows: number }[]
  /** A run of this name already checkpointed this much. */
  checkpoint: { batches: number; rows: number } | null
  estimated_seconds: number
}

async function vocabularies(reader: LegacyReader): Promise<VocabularyLine[]> {
  const m = reader.mapping
  const lines: VocabularyLine[] = []
  for (const field of ['direction', 'message_type', 'status'] as const) {
    const column = m.columns[field]
    if (!column) continue
    for (const r of await reader.valueCounts([column])) {
      const v = r.v0 ?? null
      const named = v === null ? undefined : (m.values[field] as Record<string, string>)[v]
      const becomes =
        field === 'status' ? (named ?? v ?? '(sent or received, by direction)')
        : v === null ? (field === 'message_type' ? 'email' : null)
        : (named ?? ((OURS[field] as readonly string[]).includes(v) ? v : null))
      lines.push({ setting: `columns.${field}`, value: v, rows: Number(r.rows), becomes })
    }
  }
  return lines
}

/** Tenants and mailboxes the legacy rows name that OLTP does not have (migrate would stop at them). */
async function unknownReferences(deps: Deps, reader: LegacyReader, tenant: string | null) {
  const m = reader.mapping
  const account = m.columns.email_account_id ?? m.columns.email_account_address!
  const pairs = (await reader.valueCounts(m.tenant_column ? [m.tenant_column, account] : [account], 100_000)).map((r) => ({
    tenant_id: (m.tenant_column ? r.v0 : tenant) ?? '',
    mailbox: (m.tenant_column ? r.v1 : r.v0) ?? '',
    rows: Number(r.rows),
  }))
  const unknownTenants = new Set(await missingTenants(deps.tiers.oltp, [...new Set(pairs.map((p) => p.tenant_id).filter((t) => isUuid(t)))]))
  for (const p of pairs) if (!isUuid(p.tenant_id)) unknownTenants.add(p.tenant_id)
  const known = pairs.filter((p) => !unknownTenants.has(p.tenant_id))
  let missing: typeof pairs = []
  if (m.columns.email_account_id) {
    const bad = await missingEmailAccounts(deps.tiers.oltp, known.filter((p) => isUuid(p.mailbox)).map((p) => ({ tenant_id: p.tenant_id, id: p.mailbox })))
    const badKeys = new Set(bad.map((b) => `${b.tenant_id}/${b.id}`))
    missing = known.filter((p) => !isUuid(p.mailbox) || badKeys.has(`${p.tenant_id}/${p.mailbox}`))
  } else {
    for (const [tenantId, list] of Map.groupBy(known, (p) => p.tenant_id)) {
      const found = new Set((await findEmailAccountsByAddress(deps.tiers.oltp, tenantId, list.map((p) => p.mailbox))).map((a) => a.email_address.toLowerCase()))
      missing.push(...list.filter((p) => !found.has(p.mailbox.toLowerCase())))
    }
  }
  return { unknown_tenants: [...unknownTenants], unknown_mailboxes: missing }
}

export async function planLegacy(
  deps: Deps,
  o: { reader: LegacyReader; info: TableInfo; run: string; tenant: string | null; rate: number },
): Promise<LegacyPlan> {
  const m = o.reader.mapping
  const columns = mappedColumns(m)
  const used = new Set(columns.map(([, c]) => c))
  const stats = await o.reader.stats()
  const refs = await unknownReferences(deps, o.reader, m.tenant_column ? null : o.tenant)
  const done = (await lastLegacyBatch(deps.tiers.oltp, o.run))
    ? (await listLegacyBatches(deps.tiers.oltp, o.run)).reduce((n, b) => ({ batches: n.batches + 1, rows: n.rows + b.rows }), { batches: 0, rows: 0 })
    : null
  const rate = o.rate > 0 ? Math.min(o.rate, REFERENCE_RATE) : REFERENCE_RATE
  return {
    table: m.table,
    columns,
    unmapped_columns: [...o.info.columns.keys()].filter((c) => !used.has(c)),
    ...stats,
    vocabularies: await vocabularies(o.reader),
    ...refs,
    checkpoint: done,
    estimated_seconds: Math.ceil((stats.rows - (done?.rows ?? 0)) / rate),
  }
}
