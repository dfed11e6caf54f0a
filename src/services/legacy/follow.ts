/**
 * `legacy follow`: the parallel run. One cycle (a) reads the pending changes the capture trigger
 * recorded, (b) migrates rows past the checkpoint as `migrate` would, then (c) applies each
 * captured id as the legacy row is now: a row already migrated has its ref and content replaced
 * under the same ids; a new row below the checkpoint joins the batch whose key range holds it
 * (so verify's per-batch ranges still cover it); a migrated row the legacy table no longer has is
 * removed like a rollback would. Only then are the applied capture rows deleted, so a crash
 * anywhere re-applies them, which changes nothing the second time.
 */
import type { Deps } from '../../deps.ts'
import { conflict } from '../../errors.ts'
import type { Capture } from '../../legacy/capture.ts'
import type { Mapping } from '../../legacy/mapping.ts'
import type { LegacyRow } from '../../legacy/source.ts'
import { transformRow, type MigratedMessage } from '../../legacy/transform.ts'
import { messageKey } from '../../storage-keys.ts'
import { backdateContent, deleteContentObjects } from '../../tiers/content/objects.ts'
import { readPolicy } from '../../tiers/content/retention.ts'
import {
  deleteMigratedRefs,
  findLegacyIds,
  growLegacyBatch,
  lastLegacyBatch,
  listLegacyBatches,
  updateMigratedRefs,
  type LegacyIdRow,
} from '../../tiers/oltp/legacy.ts'
import { getMessageRefs } from '../../tiers/oltp/messages.ts'
import { batchHistory } from './history.ts'
import { FOREVER, insertMigratedContent, migrateBatch, prepareMigratedContent, resolveMailboxes } from './batch.ts'
import { migrateLegacy, type MigrateOptions } from './migrate.ts'

export interface FollowOptions extends MigrateOptions {
  capture: Capture
}

export interface FollowCycle {
  /** Rows past the checkpoint, migrated in new batches. */
  migrated: number
  /** Captured rows applied: new below the checkpoint, changed, gone from the legacy table. */
  inserted: number
  updated: number
  deleted: number
}

/** Legacy key order: uuids compare as their lowercase text does, integers as numbers. */
export function compareKeys(type: Mapping['id']['type'], a: string, b: string): number {
  if (type === 'bigint') {
    const x = BigInt(a)
    const y = BigInt(b)
    return x < y ? -1 : x > y ? 1 : 0
  }
  return a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0
}

/** A changed legacy row → its stored message under the ids it was migrated with. */
async function applyUpdates(deps: Deps, o: FollowOptions, rows: LegacyRow[], known: Map<string, LegacyIdRow>): Promise<number> {
  const { oltp, content } = deps.tiers
  const mapping = o.reader.mapping
  const files = await o.reader.attachments(rows.map((r) => r.legacy_id))
  const messages: MigratedMessage[] = rows.map((r) => {
    const m = transformRow(mapping, r, files.get(r.legacy_id) ?? [], mapping.tenant_column ? null : o.tenant)
    const was = known.get(r.legacy_id)!
    if (m.tenant_id !== was.tenant_id) throw conflict(`legacy row ${r.legacy_id} moved from tenant ${was.tenant_id} to ${m.tenant_id}; roll back and migrate again`, 'tenant_column')
    return { ...m, id: was.message_id }
  })
  const accounts = await resolveMailboxes(deps, messages)
  const parentIds = [...new Set(messages.flatMap((m) => (m.parent_legacy_id ? [m.parent_legacy_id] : [])))]
  const parents = new Map((await findLegacyIds(oltp, o.run, parentIds)).map((p) => [p.legacy_id, p]))
  for (const [tenantId, list] of Map.groupBy(messages, (m) => m.tenant_id)) {
    const refs = new Map((await getMessageRefs(oltp, tenantId, list.map((m) => m.id))).map((r) => [r.id, r]))
    // Expired or erased content stays gone: a legacy edit does not bring a body back.
    const rewrite = list.filter((m) => refs.get(m.id)?.content_state === 'present')
    if (rewrite.length > 0) await deps.contentKeys.forWrite(tenantId) // made before the transaction (PGlite's one connection)
    const sealed = await Promise.all(rewrite.map((m) => prepareMigratedContent(deps, m, messageKey(tenantId, m.id))))
    const policy = await readPolicy(content, tenantId)
    await content.transaction(async (tx) => {
      await deleteContentObjects(tx, tenantId, rewrite.map((m) => messageKey(tenantId, m.id)), FOREVER)
      await insertMigratedContent(tx, rewrite.map((m, i) => ({ m, key: messageKey(tenantId, m.id), sealed: sealed[i]!, policy })))
    })
    await oltp.transaction((tx) =>
      updateMigratedRefs(
        tx,
        tenantId,
        list.map((m) => {
          const p = m.parent_legacy_id ? parents.get(m.parent_legacy_id) : undefined
          return {
            ...m,
            email_account_id: accounts.get(m.legacy_id)!,
            parent_message_id: p && p.tenant_id === tenantId ? p.message_id : null,
          }
        }),
      ),
    )
    await backdateContent(content, tenantId, rewrite.map((m) => messageKey(tenantId, m.id)), rewrite.map((m) => m.created))
  }
  return messages.length
}

/** Migrated messages whose legacy row is gone: removed as a rollback removes them. */
async function applyDeletes(deps: Deps, run: string, gone: LegacyIdRow[]): Promise<number> {
  const { oltp, content } = deps.tiers
  for (const [tenantId, list] of Map.groupBy(gone, (r) => r.tenant_id)) {
    const ids = list.map((r) => r.message_id)
    await oltp.transaction(async (tx) => {
      await deleteMigratedRefs(tx, tenantId, ids)
      for (const [batch, rows] of Map.groupBy(list, (r) => r.batch_no)) await growLegacyBatch(tx, run, batch, -rows.length, 0)
    })
    await deleteContentObjects(content, tenantId, ids.map((id) => messageKey(tenantId, id)), FOREVER)
  }
  return gone.length
}

export async function followOnce(deps: Deps, o: FollowOptions, { changes = 1000 }: { changes?: number } = {}): Promise<FollowCycle> {
  const oltp = deps.tiers.oltp
  const type = o.reader.mapping.id.type
  // Read before the keyset pass: a captured insert past the checkpoint is then already visible to it.
  const pending = await o.capture.pending(changes)
  const migrated = (await migrateLegacy(deps, o)).rows
  const cycle: FollowCycle = { migrated, inserted: 0, updated: 0, deleted: 0 }
  const checkpoint = (await lastLegacyBatch(oltp, o.run))?.last_key ?? null
  const batches = await listLegacyBatches(oltp, o.run)
  const seqsOf = Map.groupBy(pending, (c) => c.legacy_id)
  const ids = [...seqsOf.keys()]
  for (let i = 0; i < ids.length; i += o.batchSize) {
    const chunk = ids.slice(i, i + o.batchSize)
    const rows = await o.reader.byIds(chunk)
    const known = new Map((await findLegacyIds(oltp, o.run, chunk)).map((r) => [r.legacy_id, r]))
    const present = new Set(rows.map((r) => r.legacy_id))
    cycle.deleted += await applyDeletes(deps, o.run, [...known.values()].filter((k) => !present.has(k.legacy_id)))
    const changed = rows.filter((r) => known.has(r.legacy_id))
    if (changed.length) cycle.updated += await applyUpdates(deps, o, changed, known)
    // Changed and removed rows change what their batches count in analytics; before the capture
    // rows go, so a crash re-applies them and syncs again.
    for (const batch of new Set([...known.values()].map((k) => k.batch_no))) await batchHistory(deps, o.run, batch)
    // New rows at or below the checkpoint; past it, the next keyset pass takes them.
    const fresh = rows.filter((r) => !known.has(r.legacy_id) && checkpoint !== null && compareKeys(type, r.legacy_id, checkpoint) <= 0)
    const home = (key: string) => batches.find((b) => compareKeys(type, key, b.last_key) <= 0)!.batch_no
    for (const [batch, list] of Map.groupBy(fresh, (r) => home(r.legacy_id))) {
      await migrateBatch(deps, o, list, batch, false, true)
      cycle.inserted += list.length
    }
    const left = new Set(rows.filter((r) => !known.has(r.legacy_id) && !fresh.includes(r)).map((r) => r.legacy_id))
    await o.capture.done(chunk.filter((id) => !left.has(id)).flatMap((id) => seqsOf.get(id)!.map((c) => c.seq)))
  }
  return cycle
}

export interface FollowStatus {
  run: string
  batches: number
  migrated: number
  checkpoint: string | null
  capture_installed: boolean
  /** Captured changes not applied yet (distinct rows). */
  pending_changes: number
  /** Rows past the checkpoint that no capture row lists. */
  not_migrated: number
  lag_rows: number
  /** Age of the oldest pending change; null when rows are behind but nothing captured dates them. */
  lag_seconds: number | null
}

export async function followStatus(deps: Deps, o: Pick<FollowOptions, 'reader' | 'run' | 'capture'>): Promise<FollowStatus> {
  const batches = await listLegacyBatches(deps.tiers.oltp, o.run)
  const checkpoint = batches.at(-1)?.last_key ?? null
  const lag = await o.capture.lag()
  const notMigrated = await o.reader.countAfter(checkpoint, lag.installed ? o.capture.names.table : undefined)
  const lagRows = lag.pending + notMigrated
  return {
    run: o.run,
    batches: batches.length,
    migrated: batches.reduce((n, b) => n + b.rows, 0),
    checkpoint,
    capture_installed: lag.installed,
    pending_changes: lag.pending,
    not_migrated: notMigrated,
    lag_rows: lagRows,
    lag_seconds: lag.pending ? lag.oldest_seconds : lagRows ? null : 0,
  }
}
