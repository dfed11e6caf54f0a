import { ARCHIVE_ZSTD_LEVEL, packBody, unpackBody } from '../../src/content/codec.ts'
import { DEFAULT_POLICY } from '../../src/content/retention.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { dueForArchive, storeArchived } from '../../src/tiers/content/retention.ts'
import { defineJob } from '../job.ts'

/**
 * The warm tier: bodies past their tenant's archive-after days are recompressed in place with
 * zstd at a high level and flagged archived. In place rather than moved to an archive table,
 * so a read stays one lookup by storage key and nothing can be lost between two tables.
 */
export const archiveContent = defineJob('content.archive', async ({ batch_size: batch }, { deps, log }) => {
  const rows = await dueForArchive(deps.tiers.content, DEFAULT_POLICY.archive_after_days, batch)
  let before = 0
  let after = 0
  for (const row of rows) {
    const { content_text, content_html } = unpackBody(row)
    // minBytes 0: in the archive even small bodies are worth a frame.
    const packed = packBody(content_text, content_html, 0, 'zstd', ARCHIVE_ZSTD_LEVEL)
    before += (row.content_text_packed?.length ?? 0) + (row.content_html_packed?.length ?? 0) + Buffer.byteLength(row.content_text ?? '') + Buffer.byteLength(row.content_html ?? '')
    after += packed.stored_size_bytes
    await storeArchived(deps.tiers.content, row.storage_key, packed)
  }
  if (rows.length) log.info({ archived: rows.length, bytes_before: before, bytes_after: after }, 'content archived')
  if (rows.length === batch) await enqueue(deps.tiers.queue, 'content.archive', { batch_size: batch })
})
