/**
 * One batch of `legacy migrate`, stage by stage (the run's order and crash story are told in
 * migrate.ts): prepare (read attachments, map, check, compress and seal: writes nothing), (1) the
 * content transaction, (2) the refs, id map and checkpoint transaction, then (3) the dates and (4)
 * the history. `migrateLegacy` overlaps the stages of consecutive batches; `migrateBatch` runs
 * them in turn for one (queue jobs, follow).
 */
import type { Queryable } from '../../db/types.ts'
import type { Deps } from '../../deps.ts'
import { conflict, invalid } from '../../errors.ts'
import { newId, sha256Hex } from '../../ids.ts'
import { transformRow, type MigratedMessage } from '../../legacy/transform.ts'
import type { LegacyReader, LegacyRow } from '../../legacy/source.ts'
import { messageKey } from '../../storage-keys.ts'
import { insertAttachments } from '../../tiers/content/attachments.ts'
import { packBody } from '../../tiers/content/codec.ts'
import { backdateContent, deleteContentObjects, existingContent, insertContentObjects } from '../../tiers/content/objects.ts'
import { readPolicies, type RetentionPolicy } from '../../tiers/content/retention.ts'
import { findEmailAccountsByAddress } from '../../tiers/oltp/email-accounts.ts'
import {
  findLegacyIds,
  growLegacyBatch,
  insertLegacyBatch,
  insertLegacyIds,
  insertLegacyRun,
  legacyIdsOfBatch,
  linkPendingParents,
  lockLegacyRun,
  markLegacyBatchDated,
  missingEmailAccounts,
  missingTenants,
} from '../../tiers/oltp/legacy.ts'
import { existingMessageIds, getMessageRefs, insertMessageRef, insertMessageRefs, newMessageRef, type NewMessageRef } from '../../tiers/oltp/messages.ts'
import { sealWrite, type SealedWrite } from '../content-seal.ts'
import { batchHistory, type HistoryFaults } from './history.ts'

/** What a batch's stages need of a run. */
export interface BatchOptions {
  reader: LegacyReader
  run: string
  /** The source as the run records it (no password). */
  source: string
  /** A single-tenant source's tenant, or the one tenant a multi-tenant run is restricted to. */
  tenant: string | null
  /** Tests inject a crash between the content and the OLTP commit, after the OLTP commit, or inside the history. */
  faults?: { afterContentWrite?: () => void | Promise<void>; beforeHistory?: () => void | Promise<void> } & HistoryFaults
  /** Milliseconds spent per step, added up across batches (the benchmark's profile). */
  profile?: Record<string, number>
}

/** Runs a step, adding its time to the profile when one is kept. */
export async function step<T>(profile: Record<string, number> | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (!profile) return fn()
  const t = performance.now()
  try {
    return await fn()
  } finally {
    profile[name] = (profile[name] ?? 0) + performance.now() - t
  }
}

/** Step (3) for one batch whose process died after (2): its refs carry the original dates. */
export async function dateBatch(deps: Deps, run: string, batchNo: number) {
  const { oltp, content } = deps.tiers
  const ids = await legacyIdsOfBatch(oltp, run, batchNo)
  for (const [tenant, rows] of Map.groupBy(ids, (r) => r.tenant_id)) {
    const refs = await getMessageRefs(oltp, tenant, rows.map((r) => r.message_id))
    await backdateContent(content, tenant, refs.map((r) => r.content_storage_key), refs.map((r) => r.created))
  }
  await markLegacyBatchDated(oltp, run, batchNo)
}

/** Every tenant and mailbox a batch names must exist; mailboxes named by address become ids. */
export async function resolveMailboxes(deps: Deps, messages: readonly MigratedMessage[]): Promise<Map<string, string>> {
  const oltp = deps.tiers.oltp
  const [tenant] = await missingTenants(oltp, [...new Set(messages.map((m) => m.tenant_id))])
  if (tenant) {
    const m = messages.find((x) => x.tenant_id === tenant)!
    throw invalid(`legacy row ${m.legacy_id}: tenant ${tenant} does not exist here; create it first`, 'tenant_column', 'unknown tenant')
  }
  const accounts = new Map<string, string>()
  const byId = messages.flatMap((m) => ('id' in m.email_account ? [{ m, id: m.email_account.id }] : []))
  const [missing] = await missingEmailAccounts(oltp, byId.map(({ m, id }) => ({ tenant_id: m.tenant_id, id })))
  if (missing) {
    const m = byId.find((x) => x.id === missing.id)!.m
    throw invalid(`legacy row ${m.legacy_id}: email account ${missing.id} is not a mailbox of tenant ${missing.tenant_id}`, 'columns.email_account_id', 'unknown mailbox')
  }
  for (const { m, id } of byId) accounts.set(m.legacy_id, id)
  const byAddress = messages.flatMap((m) => ('address' in m.email_account ? [{ m, address: m.email_account.address }] : []))
  for (const [tenantId, list] of Map.groupBy(byAddress, (x) => x.m.tenant_id)) {
    const found = await findEmailAccountsByAddress(oltp, tenantId, [...new Set(list.map((x) => x.address))])
    const ids = new Map(found.map((f) => [f.email_address.toLowerCase(), f.id]))
    for (const { m, address } of list) {
      const id = ids.get(address.toLowerCase())
      if (!id) throw invalid(`legacy row ${m.legacy_id}: tenant ${tenantId} has no mailbox ${address}; create it first`, 'columns.email_account_address', 'unknown mailbox')
      accounts.set(m.legacy_id, id)
    }
  }
  return accounts
}

/** The ref a migrated message becomes: its original date kept. */
const migratedRef = (m: MigratedMessage, emailAccountId: string, parentId: string | null): NewMessageRef & { created: Date } => ({
  ...newMessageRef({ id: m.id, tenant_id: m.tenant_id, email_account_id: emailAccountId, parent_message_id: parentId, content_storage_key: messageKey(m.tenant_id, m.id) }, m),
  created: m.created,
})

const isForeignKeyViolation = (err: unknown) => (err as { code?: string }).code === '23503'

/** The columns of a migrated ref that name another row (a mailbox and its campaign, step and lead). */
const REFERENCES = ['sequence_step_id', 'campaign_id', 'lead_id', 'email_account_id'] as const

/** A row OLTP refused, said in the migration's terms: which legacy row and which reference. */
function rowError(m: MigratedMessage, err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; constraint_name?: string; detail?: string }
  if (!isForeignKeyViolation(err)) return err
  const constraint = e.constraint_name ?? e.constraint ?? ''
  // The constraint's name says which reference; Citus passes a worker's error on without it, but
  // with its detail: Key (tenant_id, campaign_id)=(…) is not present in table "campaigns_102040".
  const keyColumns = /Key \(([^)]*)\)=/.exec(e.detail ?? '')?.[1] ?? ''
  const column =
    REFERENCES.find((c) => constraint.includes(c.replace(/_id$/, ''))) ?? REFERENCES.find((c) => keyColumns.split(', ').includes(c)) ?? 'a reference'
  const value = (m as unknown as Record<string, unknown>)[column]
  return invalid(`legacy row ${m.legacy_id}: ${column} ${value ?? ''} does not exist for tenant ${m.tenant_id}${constraint ? ` (${constraint})` : ''}`, `columns.${column}`, 'unknown id')
}

/** A bound later than any row's created (the delete query takes one). */
export const FOREVER = new Date('9999-12-31T00:00:00Z')

/** A message's body, headers and attachments compressed and sealed, ready for a content transaction. */
export async function prepareMigratedContent(deps: Deps, m: MigratedMessage, key: string): Promise<SealedWrite> {
  const packed = packBody(m.content_text, m.content_html, deps.config.COMPRESS_MIN_BYTES)
  const files = m.attachments.map((a) => ({
    id: newId(),
    filename: a.filename,
    mimeType: a.mime_type,
    bytes: a.bytes,
    sha256: sha256Hex(a.bytes),
    storageDisposition: a.storage_disposition,
  }))
  return sealWrite(deps, m.tenant_id, key, packed, m.headers, files)
}

/** A migrated message's content, compressed and sealed, and the policy its expiry comes from. */
export interface MigratedContent {
  m: MigratedMessage
  key: string
  sealed: SealedWrite
  policy: RetentionPolicy
}

/**
 * Stores prepared messages' content under their storage keys in two or three multi-row
 * statements (bodies, then attachment blobs and rows), each expiry from the tenant's policy
 * counted from the original date; returns the expiries in order.
 */
export async function insertMigratedContent(tx: Queryable, list: readonly MigratedContent[]): Promise<(Date | null)[]> {
  const expires = await insertContentObjects(
    tx,
    list.map(({ m, key, sealed, policy }) => ({ storageKey: key, tenantId: m.tenant_id, kind: m.direction, body: sealed.body, since: m.created, policy })),
  )
  await insertAttachments(
    tx,
    list.flatMap(({ m, key, sealed }) => sealed.attachments.map((a) => ({ tenantId: m.tenant_id, parentKey: key, a }))),
  )
  return expires
}

/** A batch read, checked and with its content compressed and sealed: everything but the writes. */
export interface PreparedBatch {
  rows: LegacyRow[]
  messages: MigratedMessage[]
  accounts: Map<string, string>
  /** Content a crashed attempt left: reused (with its date and expiry) or, when stale, rewritten. */
  kept: Map<string, { created: Date; expires: Date | null }>
  stale: Map<string, string[]>
  sealed: Map<string, SealedWrite>
}

/**
 * Stage one of a batch, which writes nothing: attachments read, rows mapped and checked, content
 * compressed and sealed. migrateLegacy runs it for batch N+1 while batch N writes, so the CPU
 * work of one overlaps the database work of the other.
 */
export async function prepareBatch(deps: Deps, o: Pick<BatchOptions, 'reader' | 'tenant' | 'profile'>, rows: LegacyRow[]): Promise<PreparedBatch> {
  const { tiers, config, clock } = deps
  const mapping = o.reader.mapping
  const files = await step(o.profile, 'read attachments', () => o.reader.attachments(rows.map((r) => r.legacy_id)))
  const tenantOverride = mapping.tenant_column ? null : o.tenant
  const messages = rows.map((r) => transformRow(mapping, r, files.get(r.legacy_id) ?? [], tenantOverride))
  const byTenant = Map.groupBy(messages, (m) => m.tenant_id)
  const graceMs = (config.CONTENT_ORPHAN_GRACE_S * 1000) / 2
  const kept = new Map<string, { created: Date; expires: Date | null }>()
  const stale = new Map<string, string[]>()
  const accounts = await step(o.profile, 'checks', async () => {
    const accounts = await resolveMailboxes(deps, messages)
    // A batch spans many tenants (50 in the benchmark's): their reads go out together, then are judged in order.
    const found = await Promise.all(
      [...byTenant].map(async ([tenantId, list]) => {
        const [taken, left] = await Promise.all([
          existingMessageIds(tiers.oltp, tenantId, list.map((m) => m.id)),
          existingContent(tiers.content, tenantId, list.map((m) => messageKey(tenantId, m.id))),
        ])
        return { tenantId, list, taken, left }
      }),
    )
    for (const { tenantId, list, taken, left } of found) {
      if (taken.size) {
        const ids = list.filter((m) => taken.has(m.id)).map((m) => m.legacy_id)
        throw conflict(`legacy rows ${ids.join(', ')} are already stored as messages this run did not write (migrated by another run?)`, 'run')
      }
      // Content left by an attempt that died before its refs is reused while fresh; an older one
      // the orphan collector may be about to take, so it is written again.
      const old = left.filter((l) => clock.now() - l.created.getTime() > graceMs)
      stale.set(tenantId, old.map((l) => l.storage_key))
      for (const l of left) if (!old.includes(l)) kept.set(l.storage_key, l)
    }
    return accounts
  })
  const sealed = new Map<string, SealedWrite>()
  await step(o.profile, 'compress and seal', async () => {
    for (const m of messages) {
      const key = messageKey(m.tenant_id, m.id)
      if (!kept.has(key)) sealed.set(key, await prepareMigratedContent(deps, m, key))
    }
  })
  return { rows, messages, accounts, kept, stale, sealed }
}

/** What a batch's content write left for its refs: expiries (to count the expired) and the oldest content's date. */
interface ContentWritten {
  expired: number
  oldest: number
}

/**
 * Stage two, (1): the batch's content in one transaction. Statements inside a transaction are
 * sent without waiting for each answer (postgres.js pipelines them on its connection).
 */
export async function writeBatchContent(deps: Deps, o: Pick<BatchOptions, 'faults' | 'profile'>, b: PreparedBatch): Promise<ContentWritten> {
  const { tiers, clock } = deps
  const byTenant = Map.groupBy(b.messages, (m) => m.tenant_id)
  let oldest = clock.now()
  const expires = new Map<string, Date | null>()
  // Each tenant's key is had before the transaction: making one inside would wait on the transaction's own connection (PGlite).
  for (const tenantId of byTenant.keys()) await deps.contentKeys.forWrite(tenantId)
  const policies = await readPolicies(tiers.content, [...byTenant.keys()])
  await step(o.profile, 'content write', () =>
    tiers.content.transaction(async (tx) => {
      for (const [tenantId, keys] of b.stale) await deleteContentObjects(tx, tenantId, keys, FOREVER)
      const fresh: MigratedContent[] = []
      for (const m of b.messages) {
        const key = messageKey(m.tenant_id, m.id)
        const kept = b.kept.get(key)
        if (kept) {
          expires.set(m.legacy_id, kept.expires)
          oldest = Math.min(oldest, kept.created.getTime())
        } else fresh.push({ m, key, sealed: b.sealed.get(key)!, policy: policies.get(m.tenant_id)! })
      }
      const written = await insertMigratedContent(tx, fresh)
      fresh.forEach(({ m }, i) => expires.set(m.legacy_id, written[i]!))
    }),
  )
  await o.faults?.afterContentWrite?.()
  const now = clock.now()
  return { expired: b.messages.filter((m) => (expires.get(m.legacy_id)?.getTime() ?? Infinity) <= now).length, oldest }
}

/** Stage two, (2): refs, id map and checkpoint in one OLTP transaction. */
export async function writeBatchRefs(
  deps: Deps,
  o: Pick<BatchOptions, 'reader' | 'run' | 'source' | 'tenant' | 'profile' | 'faults'>,
  b: PreparedBatch,
  c: ContentWritten,
  batchNo: number,
  newRun: boolean,
  grow: boolean,
): Promise<{ expired: number }> {
  const { tiers, config, clock } = deps
  const { rows, messages, accounts } = b
  const { expired, oldest } = c
  const graceMs = (config.CONTENT_ORPHAN_GRACE_S * 1000) / 2

  // (2) Refs, the id map and the checkpoint, together. Parents are looked up here, in the
  // transaction, so a parent committed by the batch just before is seen.
  const inBatch = new Set(messages.map((m) => m.legacy_id))
  const wanted = [...new Set(messages.flatMap((m) => (m.parent_legacy_id && !inBatch.has(m.parent_legacy_id) ? [m.parent_legacy_id] : [])))]
  // One multi-row statement for the refs. When the database refuses one (a reference that does not
  // exist), the transaction runs again a ref at a time, only to name the legacy row it was.
  const commit = (oneByOne: boolean) =>
    tiers.oltp.transaction(async (tx) => {
      if (clock.now() - oldest > graceMs) throw new Error(`batch ${batchNo}: the refs came too late after their content; not committed (run migrate again)`)
      await lockLegacyRun(tx, o.run)
      // Parents migrated by earlier batches link now; the others (later in this batch or in a later
      // one, or never) wait in the id map and are linked when their parent's batch commits.
      const earlier = new Map((await findLegacyIds(tx, o.run, wanted)).map((r) => [r.legacy_id, r]))
      const parentOf = (m: MigratedMessage) => {
        const p = m.parent_legacy_id ? earlier.get(m.parent_legacy_id) : undefined
        return p && p.tenant_id === m.tenant_id ? p.message_id : null
      }
      const refs = messages.map((m) => migratedRef(m, accounts.get(m.legacy_id)!, parentOf(m)))
      const stored = oneByOne
        ? await Promise.all(refs.map((r, i) => insertMessageRef(tx, r, { created: r.created }).catch((err) => Promise.reject(rowError(messages[i]!, err)))))
        : await insertMessageRefs(tx, refs)
      const refused = messages.find((_, i) => !stored[i])
      if (refused) {
        throw conflict(`legacy row ${refused.legacy_id}: tenant ${refused.tenant_id} already has an inbound message with Message-ID ${refused.rfc822_message_id}`, 'columns.rfc822_message_id')
      }
      if (newRun) await insertLegacyRun(tx, { name: o.run, source: o.source, mapping: o.reader.mapping, tenant_id: o.tenant })
      if (grow) await growLegacyBatch(tx, o.run, batchNo, rows.length, expired)
      else await insertLegacyBatch(tx, { run: o.run, batch_no: batchNo, first_key: rows[0]!.legacy_id, last_key: rows.at(-1)!.legacy_id, rows: rows.length, expired })
      const ids = messages.map((m) => ({
        legacy_id: m.legacy_id,
        tenant_id: m.tenant_id,
        message_id: m.id,
        batch_no: batchNo,
        parent_legacy_id: m.parent_legacy_id && !parentOf(m) ? m.parent_legacy_id : null,
      }))
      await insertLegacyIds(tx, o.run, ids)
      await linkPendingParents(tx, o.run, [...inBatch])
    })
  await step(o.profile, 'oltp write', () => commit(false).catch((err) => (isForeignKeyViolation(err) ? commit(true) : Promise.reject(err))))
  return { expired }
}

/**
 * Stage three, (3) and (4), once the batch's refs committed: its content dated back and its
 * history in analytics. Neither is part of the checkpoint: a batch whose process died before
 * they finished is caught up at the next start (dateUndatedBatches, catchUpHistory).
 */
export async function finishBatch(deps: Deps, o: Pick<BatchOptions, 'run' | 'profile' | 'faults'>, b: PreparedBatch, batchNo: number): Promise<void> {
  const { tiers } = deps
  // (3) The original dates, now that the refs protect the content from the orphan collector.
  // One transaction (one commit, not two per tenant), the tenants' statements pipelined in it.
  await step(o.profile, 'date', async () => {
    await tiers.content.transaction((tx) =>
      Promise.all(
        [...Map.groupBy(b.messages, (m) => m.tenant_id)].map(([tenantId, list]) =>
          backdateContent(tx, tenantId, list.map((m) => messageKey(tenantId, m.id)), list.map((m) => m.created)),
        ),
      ),
    )
    await markLegacyBatchDated(tiers.oltp, o.run, batchNo)
  })
  // (4) The batch's historical counts in analytics, on their own days (src/services/legacy/history.ts).
  await o.faults?.beforeHistory?.()
  await step(o.profile, 'history', () => batchHistory(deps, o.run, batchNo, o.faults))
}

/**
 * One batch, all stages in turn. `grow` adds rows to an existing batch instead of checkpointing a
 * new one: legacy follow's rows that appeared below the checkpoint, filed under the batch whose
 * key range holds them.
 */
export async function migrateBatch(
  deps: Deps,
  o: Pick<BatchOptions, 'reader' | 'run' | 'source' | 'tenant' | 'faults' | 'profile'>,
  rows: LegacyRow[],
  batchNo: number,
  newRun: boolean,
  grow = false,
): Promise<{ expired: number }> {
  const b = await prepareBatch(deps, o, rows)
  const written = await writeBatchRefs(deps, o, b, await writeBatchContent(deps, o, b), batchNo, newRun, grow)
  await finishBatch(deps, o, b, batchNo)
  return written
}
