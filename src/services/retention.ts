/**
 * The content lifecycle: a tenant's retention policy, and the batches the workers run over it.
 * Hot → warm (recompressed in place) → expired (bytes dropped, rows kept, refs told) → collected.
 * Every batch is bounded and reports whether it was full, so its job can enqueue the next one
 * instead of growing into one giant transaction.
 */
import type { Deps } from '../deps.ts'
import { bracketed } from './audit.ts'
import { enqueue } from '../jobs/enqueue.ts'
import { messageIdOfKey } from '../storage-keys.ts'
import { collectUnreferencedBlobs } from '../tiers/content/attachments.ts'
import { ARCHIVE_ZSTD_LEVEL, packBody, unpackBody } from '../tiers/content/codec.ts'
import { openStored, sealContent } from './content-seal.ts'
import type { ContentKind } from '../tiers/content/objects.ts'
import {
  deleteExpiredNotifications,
  dueForArchive,
  dueForExpiry,
  expireContent,
  expireOldAttachments,
  putPolicy,
  readPolicy,
  recomputeExpiryBatch,
  storeArchived,
  type RetentionPolicy,
} from '../tiers/content/retention.ts'
import { markContentExpired } from '../tiers/oltp/messages.ts'
import { messageIdsInQueues } from '../tiers/queue/pgmq.ts'

/** The tenant's policy in force: its own, or the defaults. */
export const getPolicy = (deps: Deps, tenantId: string) => readPolicy(deps.tiers.content, tenantId)

/** Replaces the policy; stored expiries follow shortly after, recomputed in batches by a job. */
export async function setPolicy(deps: Deps, tenantId: string, policy: RetentionPolicy): Promise<RetentionPolicy> {
  // The content tier is not OLTP: the intent is recorded first (src/services/audit.ts).
  await bracketed(deps, { tenantId, action: 'retention_policy.update', targetType: 'retention_policy', targetId: tenantId, detail: policy }, async () => {
    await putPolicy(deps.tiers.content, tenantId, policy)
    await enqueue(deps.tiers.queue, 'content.recompute_expiry', { tenant_id: tenantId })
  })
  return policy
}

const KINDS: ContentKind[] = ['outbound', 'inbound', 'transactional', 'notification']

/** Gives every live body of the tenant the expiry its policy in force gives it, in batches. */
export async function recomputeExpiry(deps: Deps, tenantId: string, batch = 1_000): Promise<void> {
  for (const kind of KINDS) {
    for (let after: string | null = ''; after !== null; ) {
      after = await recomputeExpiryBatch(deps.tiers.content, tenantId, kind, after, batch)
    }
  }
}

export interface ExpiryRun {
  bodies: number
  attachments: number
  notifications: number
  blobs: number
  /** Some step filled its batch: more may be due. */
  more: boolean
}

/**
 * One batch of expiry. Content that a queued job or event still names is left for a later run.
 * Refs are marked first and bodies dropped second, so a crash between leaves a ref saying
 * "expired" over content the next run drops, never a ref saying "present" over nothing. Blobs
 * left without an attachment are deleted last.
 */
export async function expireDue(deps: Deps, batch: number): Promise<ExpiryRun> {
  const { oltp, content, queue } = deps.tiers
  const due = await dueForExpiry(content, batch, await messageIdsInQueues(queue))
  for (const [tenantId, rows] of Map.groupBy(due, (r) => r.tenant_id)) {
    const ids = rows.map((r) => messageIdOfKey(r.storage_key)).filter((id): id is string => id !== undefined)
    await markContentExpired(oltp, tenantId, ids)
  }
  await expireContent(content, due.map((r) => r.storage_key))
  const attachments = await expireOldAttachments(content, batch)
  const notifications = await deleteExpiredNotifications(content, batch)
  // Bytes no attachment points at any more (expired here, or their message collected as an orphan).
  const blobs = await collectUnreferencedBlobs(content, batch)
  const more = [due.length, attachments, notifications, blobs].some((n) => n === batch)
  return { bodies: due.length, attachments, notifications, blobs, more }
}

export interface ArchiveRun {
  archived: number
  bytes_before: number
  bytes_after: number
  more: boolean
}

/**
 * One batch of the warm tier: bodies past their tenant's archive-after days are recompressed in
 * place with zstd at a high level and flagged archived. In place rather than moved to an archive
 * table, so a read stays one lookup by storage key and nothing can be lost between two tables.
 */
export async function archiveDue(deps: Deps, batch: number): Promise<ArchiveRun> {
  const rows = await dueForArchive(deps.tiers.content, batch)
  let before = 0
  let after = 0
  for (const row of rows) {
    const clear = await openStored(deps.contentKeys, row.tenant_id, row)
    const { content_text, content_html } = unpackBody(clear)
    // minBytes 0: in the archive even small bodies are worth a frame.
    const packed = packBody(content_text, content_html, 0, 'zstd', ARCHIVE_ZSTD_LEVEL)
    before += (row.content_text_packed?.length ?? 0) + (row.content_html_packed?.length ?? 0)
    before += Buffer.byteLength(row.content_text ?? '') + Buffer.byteLength(row.content_html ?? '')
    const sealed = await sealContent(deps, row.tenant_id, row.storage_key, packed, clear.headers)
    after += sealed.stored_size_bytes
    await storeArchived(deps.tiers.content, row.storage_key, sealed)
  }
  return { archived: rows.length, bytes_before: before, bytes_after: after, more: rows.length === batch }
}
