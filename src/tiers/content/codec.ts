/**
 * How the content tier stores a body: plain under COMPRESS_MIN_BYTES, else compressed into the
 * *_packed columns with the codec compression_type names. Rows written by any earlier codec read back.
 */
import { gunzipSync, gzipSync } from 'node:zlib'
import { zstd } from '../../runtime.ts'
import type { contentObjects } from './schema.ts'

export type CompressionType = (typeof contentObjects.$inferSelect)['compression_type']

export interface PackedBody {
  compression_type: CompressionType
  /** Plain columns, set when the body is stored uncompressed. */
  text: string | null
  html: string | null
  /** Packed columns, set when it is compressed. */
  text_packed: Uint8Array | null
  html_packed: Uint8Array | null
  raw_size_bytes: number
  stored_size_bytes: number
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()

const COMPRESS: Record<Exclude<CompressionType, 'none'>, (b: Uint8Array, level?: number) => Uint8Array> = {
  gzip: (b) => gzipSync(b, { level: 6 }),
  // Level 3: measured on a realistic corpus (npm run bench -- --only compression) it stores
  // slightly smaller than gzip-6 while compressing 2.6x and decompressing 4x faster.
  zstd: (b, level = 3) => zstd.compress(b, level),
}

/** The warm archive's level: 12% smaller than level 3 on the corpus, at a speed only a background job can afford. */
export const ARCHIVE_ZSTD_LEVEL = 19

/**
 * Compresses a body (text + html) when its UTF-8 size reaches minBytes. Small bodies stay plain:
 * a codec's frame and warm-up cost more than they save under about 1 KB.
 */
export function packBody(
  text: string | null,
  html: string | null,
  minBytes: number,
  codec: Exclude<CompressionType, 'none'> = 'zstd',
  level?: number,
): PackedBody {
  const t = text === null ? null : encoder.encode(text)
  const h = html === null ? null : encoder.encode(html)
  const raw = (t?.length ?? 0) + (h?.length ?? 0)
  if (raw < minBytes || raw === 0) {
    return { compression_type: 'none', text, html, text_packed: null, html_packed: null, raw_size_bytes: raw, stored_size_bytes: raw }
  }
  const tp = t && COMPRESS[codec](t, level)
  const hp = h && COMPRESS[codec](h, level)
  return {
    compression_type: codec,
    text: null,
    html: null,
    text_packed: tp,
    html_packed: hp,
    raw_size_bytes: raw,
    stored_size_bytes: (tp?.length ?? 0) + (hp?.length ?? 0),
  }
}

function inflate(type: CompressionType, bytes: Uint8Array): string {
  switch (type) {
    case 'gzip':
      return decoder.decode(gunzipSync(bytes))
    case 'zstd':
      return decoder.decode(zstd.decompress(bytes))
    case 'none':
      return decoder.decode(bytes)
  }
}

/** Reads back whatever packBody (or any earlier codec) wrote. */
export function unpackBody(row: {
  compression_type: CompressionType
  content_text: string | null
  content_html: string | null
  content_text_packed: Uint8Array | null
  content_html_packed: Uint8Array | null
}): { content_text: string | null; content_html: string | null } {
  return {
    content_text: row.content_text_packed ? inflate(row.compression_type, row.content_text_packed) : row.content_text,
    content_html: row.content_html_packed ? inflate(row.compression_type, row.content_html_packed) : row.content_html,
  }
}
