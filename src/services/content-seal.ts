/**
 * Content in and out of its encryption, for the services that write and read it: bodies (with
 * their headers) and attachment bytes are sealed under the tenant's data key after compression,
 * and opened on the way back. A row written before encryption (no key_id) reads as it is.
 */
import type { Deps } from '../deps.ts'
import type { NewAttachment } from '../tiers/content/attachments.ts'
import { unpackBody, type PackedBody } from '../tiers/content/codec.ts'
import { blobRow, newNonce, open, openBody, seal, sealBody, unsealedBody, type SealedBody, type StoredColumns } from '../tiers/content/sealing.ts'
import type { ContentKeys } from './content-keys.ts'

/** A packed body and its headers as the content tier stores them. */
export async function sealContent(deps: Pick<Deps, 'contentKeys'>, tenantId: string, storageKey: string, body: PackedBody, headers: unknown): Promise<SealedBody> {
  const keys = deps.contentKeys
  if (!keys.sealing) return unsealedBody(body, headers)
  return sealBody(await keys.forWrite(tenantId), storageKey, body, headers)
}

/** Attachments with their bytes sealed, bound to their blob (the tenant's sha256 of the plaintext). */
export async function sealAttachments(deps: Pick<Deps, 'contentKeys'>, tenantId: string, files: NewAttachment[]): Promise<NewAttachment[]> {
  const keys = deps.contentKeys
  if (!keys.sealing || files.length === 0) return files
  const k = await keys.forWrite(tenantId)
  return Promise.all(
    files.map(async (a) => {
      const nonce = newNonce()
      return { ...a, sealed: { bytes: await seal(k, nonce, blobRow(a.sha256), 'bytes', a.bytes), keyId: k.keyId, nonce } }
    }),
  )
}

export interface SealedWrite {
  body: SealedBody
  attachments: NewAttachment[]
}

/** A message's body, headers and attachments, sealed for one content transaction. */
export async function sealWrite(
  deps: Pick<Deps, 'contentKeys'>,
  tenantId: string,
  storageKey: string,
  body: PackedBody,
  headers: unknown,
  attachments: NewAttachment[],
): Promise<SealedWrite> {
  const [b, a] = await Promise.all([sealContent(deps, tenantId, storageKey, body, headers), sealAttachments(deps, tenantId, attachments)])
  return { body: b, attachments: a }
}

/** A stored body's columns in the clear (packed columns hold what the codec wrote); 503 when its key cannot be had. */
export async function openStored<R extends StoredColumns>(keys: ContentKeys, tenantId: string, row: R): Promise<R> {
  if (row.key_id === null) return row
  try {
    return await openBody(await keys.forRead(tenantId, row.key_id), row)
  } catch (err) {
    return keys.failure(err, { tenant_id: tenantId, storage_key: row.storage_key })
  }
}

/** A stored body read back: text, html and headers. */
export async function openContent(
  deps: Pick<Deps, 'contentKeys'>,
  tenantId: string,
  row: StoredColumns & { compression_type: PackedBody['compression_type'] },
): Promise<{ content_text: string | null; content_html: string | null; headers: { name: string; value: string }[] }> {
  const clear = await openStored(deps.contentKeys, tenantId, row)
  return { ...unpackBody(clear), headers: (clear.headers as { name: string; value: string }[] | null) ?? [] }
}

/** Attachment bytes as stored (sealed or not), with where they are bound. */
export interface StoredBytes {
  content: Uint8Array | null
  key_id: string | null
  nonce: Uint8Array | null
  /** blob:<sha256> or attachment:<id>: the additional data the bytes were sealed with. */
  sealed_as: string
}

/** Attachment bytes in the clear; null when they expired. */
export async function openBytes(deps: Pick<Deps, 'contentKeys'>, tenantId: string, s: StoredBytes): Promise<Uint8Array | null> {
  if (s.content === null || s.key_id === null) return s.content
  const keys = deps.contentKeys
  try {
    return await open(await keys.forRead(tenantId, s.key_id), s.nonce ?? new Uint8Array(0), s.sealed_as, 'bytes', s.content)
  } catch (err) {
    return keys.failure(err, { tenant_id: tenantId, storage_key: s.sealed_as })
  }
}
