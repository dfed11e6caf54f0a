/**
 * The upgrade to encryption at rest: rows written before it are sealed in place, a bounded batch
 * per table per run, in key order from where the last run stopped. Each row is read, sealed under
 * its tenant's key outside any transaction, and stored only if it is still in the clear, so a
 * batch is safe to run twice or to be killed anywhere; reads handle both forms until it is done.
 */
import type { Deps } from '../deps.ts'
import { blobRow, attachmentRow, newNonce, seal } from '../tiers/content/sealing.ts'
import { storeSealedBlob, storeSealedBody, storeSealedInline, unsealedBlobs, unsealedBodies, unsealedInline } from '../tiers/content/unsealed.ts'
import { sealContent } from './content-seal.ts'
import { NIL_UUID } from '../ids.ts'

/** Where each table's next batch starts; absent: that table is done (or not started, in a first run). */
export interface SealCursor {
  bodies?: string
  blobs?: string
  attachments?: string
}

export interface SealRun {
  bodies: number
  blobs: number
  attachments: number
  /** The follow-up job's cursor: only the tables whose batch was full. Null: all done. */
  next: SealCursor | null
}


async function sealBytes(deps: Deps, tenantId: string, row: string, bytes: Uint8Array) {
  const k = await deps.contentKeys.forWrite(tenantId)
  const nonce = newNonce()
  return { bytes: await seal(k, nonce, row, 'bytes', bytes), keyId: k.keyId, nonce }
}

/** One batch of each table still to do (all three on a first run, `resume`'s otherwise). */
export async function sealExisting(deps: Deps, batch: number, resume?: SealCursor): Promise<SealRun> {
  // A process that writes in the clear (the benchmark's baseline) seals nothing either.
  if (!deps.contentKeys.sealing) return { bodies: 0, blobs: 0, attachments: 0, next: null }
  const content = deps.tiers.content
  const todo = resume ?? { bodies: '', blobs: '', attachments: NIL_UUID }
  const run: SealRun = { bodies: 0, blobs: 0, attachments: 0, next: null }
  const next: SealCursor = {}

  if (todo.bodies !== undefined) {
    const rows = await unsealedBodies(content, todo.bodies, batch)
    for (const r of rows) {
      const packed = {
        compression_type: r.compression_type,
        text: r.content_text,
        html: r.content_html,
        text_packed: r.content_text_packed,
        html_packed: r.content_html_packed,
        raw_size_bytes: 0,
        stored_size_bytes: 0,
      }
      const sealed = await sealContent(deps, r.tenant_id, r.storage_key, packed, r.headers)
      if (await storeSealedBody(content, r.storage_key, sealed)) run.bodies++
    }
    if (rows.length === batch) next.bodies = rows.at(-1)!.storage_key
  }
  if (todo.blobs !== undefined) {
    const [tenant, sha256] = todo.blobs ? todo.blobs.split('/') : [NIL_UUID, '']
    const rows = await unsealedBlobs(content, { tenant: tenant!, sha256: sha256! }, batch)
    for (const b of rows) {
      if (await storeSealedBlob(content, b.tenant_id, b.sha256, await sealBytes(deps, b.tenant_id, blobRow(b.sha256), b.content))) run.blobs++
    }
    if (rows.length === batch) next.blobs = `${rows.at(-1)!.tenant_id}/${rows.at(-1)!.sha256}`
  }
  if (todo.attachments !== undefined) {
    const rows = await unsealedInline(content, todo.attachments || NIL_UUID, batch)
    for (const a of rows) {
      if (await storeSealedInline(content, a.id, await sealBytes(deps, a.tenant_id, attachmentRow(a.id), a.content))) run.attachments++
    }
    if (rows.length === batch) next.attachments = rows.at(-1)!.id
  }
  run.next = Object.keys(next).length > 0 ? next : null
  return run
}
