/**
 * Encryption at rest, the format: AES-256-GCM (WebCrypto) over what the codec packed, under a
 * tenant's data key. A row has one random 96-bit base nonce; each field of it (text, html,
 * headers, bytes) XORs its own number into the last byte, so no two fields ever share a nonce
 * and one column per row is enough. The additional data binds each ciphertext to its tenant,
 * key, row and field: a ciphertext moved to another row, field or tenant fails authentication
 * instead of reading as that row's content.
 */
import type { PackedBody } from './codec.ts'

export const NONCE_BYTES = 12

/** A tenant's data key, unwrapped: non-extractable, usable only for its tenant's rows. */
export interface DataKey {
  tenantId: string
  keyId: string
  key: CryptoKey
}

const FIELDS = { text: 1, html: 2, headers: 3, bytes: 4 } as const
export type Field = keyof typeof FIELDS

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A ciphertext failed authentication: tampered, or moved from another row or tenant. */
export class SealBroken extends Error {
  override name = 'SealBroken'
}

export const newNonce = () => crypto.getRandomValues(new Uint8Array(NONCE_BYTES))

function fieldNonce(base: Uint8Array, field: Field): Uint8Array<ArrayBuffer> {
  if (base.length !== NONCE_BYTES) throw new SealBroken(`nonce of ${base.length} bytes`)
  const n = new Uint8Array(base)
  n[NONCE_BYTES - 1]! ^= FIELDS[field]
  return n
}

/** Where a ciphertext belongs: `row` is a storage key, or `blob:<sha256>` / `attachment:<id>`. */
const additionalData = (k: DataKey, row: string, field: Field) => encoder.encode(`edp-content-v1\0${k.tenantId}\0${k.keyId}\0${row}\0${field}`)

export async function seal(k: DataKey, nonce: Uint8Array, row: string, field: Field, plain: Uint8Array): Promise<Uint8Array> {
  const iv = fieldNonce(nonce, field)
  const out = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: additionalData(k, row, field) }, k.key, plain as Uint8Array<ArrayBuffer>)
  return new Uint8Array(out)
}

export async function open(k: DataKey, nonce: Uint8Array, row: string, field: Field, sealed: Uint8Array): Promise<Uint8Array> {
  const iv = fieldNonce(nonce, field)
  try {
    const out = await crypto.subtle.decrypt({ name: 'AES-GCM', iv, additionalData: additionalData(k, row, field) }, k.key, sealed as Uint8Array<ArrayBuffer>)
    return new Uint8Array(out)
  } catch {
    throw new SealBroken(`${field} of ${row} failed authentication under key ${k.keyId}`)
  }
}

/** A body as stored once sealed: ciphertext in the packed columns (even a small, uncompressed body). */
export interface SealedBody extends PackedBody {
  headers: unknown
  headers_sealed: Uint8Array | null
  key_id: string | null
  nonce: Uint8Array | null
}

const bytesOf = (s: string | null) => (s === null ? null : encoder.encode(s))

/**
 * Seals a packed body and its headers. compression_type keeps saying what the plaintext inside
 * is ('none': UTF-8), so opening it gives back exactly what packBody made.
 */
export async function sealBody(k: DataKey, storageKey: string, b: PackedBody, headers: unknown): Promise<SealedBody> {
  const nonce = newNonce()
  const text = b.text_packed ?? bytesOf(b.text)
  const html = b.html_packed ?? bytesOf(b.html)
  const [tp, hp, hs] = await Promise.all([
    text && seal(k, nonce, storageKey, 'text', text),
    html && seal(k, nonce, storageKey, 'html', html),
    headers === null || headers === undefined ? null : seal(k, nonce, storageKey, 'headers', encoder.encode(JSON.stringify(headers))),
  ])
  return {
    compression_type: b.compression_type,
    text: null,
    html: null,
    text_packed: tp,
    html_packed: hp,
    raw_size_bytes: b.raw_size_bytes,
    stored_size_bytes: (tp?.length ?? 0) + (hp?.length ?? 0),
    headers: null,
    headers_sealed: hs,
    key_id: k.keyId,
    nonce,
  }
}

/** A packed body left in the clear: what a process that does not seal (benchmarks' baseline) writes. */
export const unsealedBody = (b: PackedBody, headers: unknown): SealedBody => ({ ...b, headers, headers_sealed: null, key_id: null, nonce: null })

/**
 * The columns that hold a body as stored (sealed or in the clear), with its row's identity: what
 * every read that opens a body selects (the API's read, the archive, the erasure scan, the upgrade job).
 */
export const STORED_BODY_COLUMNS = [
  'storage_key',
  'tenant_id',
  'compression_type',
  'content_text',
  'content_html',
  'content_text_packed',
  'content_html_packed',
  'headers',
  'headers_sealed',
  'key_id',
  'nonce',
] as const

/** The stored columns of a body, as read. */
export interface StoredColumns {
  storage_key: string
  content_text: string | null
  content_html: string | null
  content_text_packed: Uint8Array | null
  content_html_packed: Uint8Array | null
  headers: unknown
  headers_sealed: Uint8Array | null
  key_id: string | null
  nonce: Uint8Array | null
}

/**
 * The same columns in the clear: packed columns hold the (possibly compressed) plaintext, headers
 * parsed. A row without key_id is returned as it is.
 */
export async function openBody<R extends StoredColumns>(k: DataKey | null, row: R): Promise<R> {
  if (row.key_id === null) return row
  if (!k || k.keyId !== row.key_id || !row.nonce) throw new SealBroken(`${row.storage_key}: sealed by key ${row.key_id}, not the tenant's`)
  const nonce = row.nonce
  const [tp, hp, hs] = await Promise.all([
    row.content_text_packed && open(k, nonce, row.storage_key, 'text', row.content_text_packed),
    row.content_html_packed && open(k, nonce, row.storage_key, 'html', row.content_html_packed),
    row.headers_sealed && open(k, nonce, row.storage_key, 'headers', row.headers_sealed),
  ])
  return { ...row, content_text_packed: tp, content_html_packed: hp, headers: hs ? JSON.parse(decoder.decode(hs)) : null, headers_sealed: null }
}

/** Where attachment bytes are bound: a blob by its plaintext sha256, inline bytes by attachment id. */
export const blobRow = (sha256: string) => `blob:${sha256}`
export const attachmentRow = (id: string) => `attachment:${id}`
