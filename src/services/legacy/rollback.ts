/**
 * `legacy rollback`: removes what migrations created, found through the id map only, so a message
 * written through the API is never touched (a reply to a migrated message stays, unthreaded). In
 * chunks, refs first and content second: a crash between leaves content without a ref, which the
 * orphan collector takes, never a ref without content. The migrated messages' historical counts
 * leave analytics first (history.ts). The legacy table is never written.
 */
import type { Deps } from '../../deps.ts'
import { messageKey } from '../../storage-keys.ts'
import { collectUnreferencedBlobs } from '../../tiers/content/attachments.ts'
import { deleteContentObjects } from '../../tiers/content/objects.ts'
import { rollbackHistory } from './history.ts'
import { deleteEmptyLegacyRuns, deleteMigratedRefs, migratedMessages } from '../../tiers/oltp/legacy.ts'

/** A bound later than any row's created (the delete query takes one). */
const FOREVER = new Date('9999-12-31T00:00:00Z')

export interface RollbackSummary {
  messages: number
  /** Runs left without any message, removed with their checkpoints: migrating again starts over. */
  runs_removed: string[]
}

export async function rollbackLegacy(
  deps: Deps,
  { tenant = null, chunk = 500, onChunk }: { tenant?: string | null; chunk?: number; onChunk?: (removed: number) => void } = {},
): Promise<RollbackSummary> {
  const { oltp, content } = deps.tiers
  // The historical counts first: a crash after leaves refs whose batches have no marker, which a
  // migrate would catch up and this rollback, run again, finds nothing more to subtract for.
  await rollbackHistory(deps, tenant)
  let messages = 0
  for (;;) {
    const rows = await migratedMessages(oltp, tenant, chunk)
    if (rows.length === 0) break
    for (const [tenantId, list] of Map.groupBy(rows, (r) => r.tenant_id)) {
      const ids = list.map((r) => r.message_id)
      await oltp.transaction((tx) => deleteMigratedRefs(tx, tenantId, ids))
      await deleteContentObjects(content, tenantId, ids.map((id) => messageKey(tenantId, id)), FOREVER)
    }
    messages += rows.length
    onChunk?.(messages)
  }
  // Attachment bytes no attachment points at any more (other messages' shared blobs stay).
  while ((await collectUnreferencedBlobs(content, chunk)) === chunk);
  return { messages, runs_removed: await deleteEmptyLegacyRuns(oltp) }
}
