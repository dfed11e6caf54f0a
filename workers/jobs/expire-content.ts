import { DEFAULT_POLICY } from '../../src/content/retention.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { deleteExpiredNotifications, dueForExpiry, expireContent, expireOldAttachments } from '../../src/tiers/content/retention.ts'
import { markContentExpired } from '../../src/tiers/oltp/messages.ts'
import { messageIdsInQueues } from '../../src/tiers/queue/pgmq.ts'
import { messageIdFromStorageKey } from '../../src/content/keys.ts'
import { collectUnreferencedBlobs } from '../../src/tiers/content/attachments.ts'
import { defineJob } from '../job.ts'

/**
 * Expires content past its retention, one bounded batch per run (a full batch enqueues the next).
 * Content that a queued job or event still names is left for a later run. Refs are marked first
 * and bodies dropped second, so a crash between leaves a ref saying "expired" over content the
 * next run drops, never a ref saying "present" over nothing. Blobs left without an attachment
 * are deleted last.
 */
export const expireContentJob = defineJob('content.expire', async ({ batch_size: batch }, { deps, log }) => {
  const { oltp, content, queue } = deps.tiers
  const due = await dueForExpiry(content, batch, await messageIdsInQueues(queue))
  for (const [tenantId, rows] of Map.groupBy(due, (r) => r.tenant_id)) {
    const ids = rows.map((r) => messageIdFromStorageKey(r.storage_key)).filter((id): id is string => id !== undefined)
    await markContentExpired(oltp, tenantId, ids)
  }
  await expireContent(content, due.map((r) => r.storage_key))
  const attachments = await expireOldAttachments(content, DEFAULT_POLICY.attachments_ttl_days, batch)
  const notifications = await deleteExpiredNotifications(content, batch)
  // Bytes no attachment points at any more (expired here, or their message collected as an orphan).
  const blobs = await collectUnreferencedBlobs(content, batch)
  if (due.length || attachments || notifications || blobs) log.info({ bodies: due.length, attachments, notifications, blobs }, 'content expired')
  if (due.length === batch || attachments === batch || notifications === batch || blobs === batch) {
    await enqueue(queue, 'content.expire', { batch_size: batch })
  }
})
