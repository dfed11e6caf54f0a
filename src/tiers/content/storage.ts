import type { Queryable } from '../../db/types.ts'

export interface StorageReport {
  objects: number
  raw_bytes: number
  stored_bytes: number
  archived_objects: number
  expired_objects: number
  attachments: { count: number; unique_blobs: number; raw_bytes: number; stored_bytes: number }
}

/**
 * What the content tier holds for one tenant (or, with null, for all): bodies as written versus
 * as stored after compression, and attachments: raw bytes of the live ones against the bytes of
 * the blobs that hold them once each.
 */
export async function storageReport(q: Queryable, tenantId: string | null): Promise<StorageReport> {
  // One statement with the tenant condition and one without, rather than `$1 IS NULL OR ...`,
  // whose generic plan could not use the tenant indexes (src/db/keyset.ts says why).
  const params = tenantId === null ? [] : [tenantId]
  const tenant = tenantId === null ? 'true' : 'tenant_id = $1::uuid'
  const [[o], [a]] = await Promise.all([
    q.query<Record<string, string>>(
      `SELECT count(*) AS objects, coalesce(sum(raw_size_bytes), 0) AS raw_bytes, coalesce(sum(stored_size_bytes), 0) AS stored_bytes,
              count(*) FILTER (WHERE archived) AS archived_objects, count(*) FILTER (WHERE content_state = 'expired') AS expired_objects
         FROM content.content_objects WHERE ${tenant}`,
      params,
    ),
    q.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM content.attachments WHERE ${tenant}) AS count,
              (SELECT count(*) FROM content.attachment_blobs WHERE ${tenant}) AS unique_blobs,
              (SELECT coalesce(sum(size_bytes), 0) FROM content.attachments
                WHERE ${tenant} AND (content IS NOT NULL OR blob_sha256 IS NOT NULL)) AS raw_bytes,
              (SELECT coalesce(sum(octet_length(content)), 0) FROM content.attachment_blobs WHERE ${tenant})
              + (SELECT coalesce(sum(octet_length(content)), 0) FROM content.attachments WHERE ${tenant} AND content IS NOT NULL) AS stored_bytes`,
      params,
    ),
  ])
  const n = (row: Record<string, string> | undefined, k: string) => Number(row?.[k] ?? 0)
  return {
    objects: n(o, 'objects'),
    raw_bytes: n(o, 'raw_bytes'),
    stored_bytes: n(o, 'stored_bytes'),
    archived_objects: n(o, 'archived_objects'),
    expired_objects: n(o, 'expired_objects'),
    attachments: { count: n(a, 'count'), unique_blobs: n(a, 'unique_blobs'), raw_bytes: n(a, 'raw_bytes'), stored_bytes: n(a, 'stored_bytes') },
  }
}

/** Message and transactional bodies by state, as written and as stored (/metrics; a full scan, so read rarely). */
export async function contentBytes(q: Queryable) {
  const [row] = await q.query<Record<string, string>>(
    `SELECT coalesce(sum(raw_size_bytes), 0)::text AS raw, coalesce(sum(stored_size_bytes), 0)::text AS stored,
            coalesce(sum(stored_size_bytes) FILTER (WHERE archived), 0)::text AS archived,
            coalesce(sum(raw_size_bytes) FILTER (WHERE content_state = 'expired'), 0)::text AS expired
       FROM content.content_objects`,
  )
  return { raw: Number(row?.raw ?? 0), stored: Number(row?.stored ?? 0), archived: Number(row?.archived ?? 0), expired: Number(row?.expired ?? 0) }
}
