/**
 * Orphan content: bodies whose ref never committed (a crash between the two writes of the
 * message path). Detection only compares keys across tiers in batches; it never joins them.
 * Collection waits out a grace period; the write path refuses to commit a ref whose content is
 * older than half of it, so a ref that commits late always finds its content still there.
 */
import type { Deps } from '../deps.ts'
import { messageIdOfKey } from '../storage-keys.ts'
import { deleteContentObjects, listContentTenants, listMessageContentKeysBefore } from '../tiers/content/objects.ts'
import { existingMessageIds } from '../tiers/oltp/messages.ts'

const BATCH = 500

export interface Orphan {
  tenant_id: string
  storage_key: string
  created: Date
}

/** Message content older than `olderThan` that no ref points to. */
export async function findOrphanContent(deps: Deps, olderThan: Date, limit = 1_000): Promise<Orphan[]> {
  const { oltp, content } = deps.tiers
  const orphans: Orphan[] = []
  for (const { tenant_id } of await listContentTenants(content)) {
    let after = ''
    while (orphans.length < limit) {
      const keys = await listMessageContentKeysBefore(content, tenant_id, olderThan, BATCH, after)
      if (keys.length === 0) break
      const ids = keys.map((k) => messageIdOfKey(k.storage_key) ?? '')
      const existing = await existingMessageIds(oltp, tenant_id, ids.filter(Boolean))
      keys.forEach((k, i) => {
        if (!existing.has(ids[i]!)) orphans.push({ tenant_id, ...k })
      })
      after = keys[keys.length - 1]!.storage_key
    }
  }
  return orphans.slice(0, limit)
}

/**
 * Deletes up to `limit` orphans older than the grace period (CONTENT_ORPHAN_GRACE_S). `more`: the
 * batch was full, so more may be waiting.
 */
export async function collectOrphanContent(deps: Deps, limit: number): Promise<{ removed: number; more: boolean }> {
  const cutoff = new Date(deps.clock.now() - deps.config.CONTENT_ORPHAN_GRACE_S * 1000)
  const orphans = await findOrphanContent(deps, cutoff, limit)
  let removed = 0
  for (const [tenantId, list] of Map.groupBy(orphans, (o) => o.tenant_id)) {
    removed += await deleteContentObjects(deps.tiers.content, tenantId, list.map((o) => o.storage_key), cutoff)
  }
  return { removed, more: removed === limit }
}
