/**
 * A person's erasure in the analytics tier: events keep their ids, types, dates and dimensions, so
 * every count stays; only what their metadata says about the person (a bounce's recipient, a
 * complainant) is redacted. Rollups and the views hold counts only and are not touched.
 */
import { scanWindow } from '../../db/scan-window.ts'
import type { Queryable } from '../../db/types.ts'
import { ERASED, type Matcher } from '../../redaction.ts'

/** Events among the tenant's next `limit` by event id whose metadata names the person. */
export function eventsNamingWindow(q: Queryable, tenantId: string, m: Matcher, afterEventId: string, limit: number) {
  return scanWindow<{ event_id: string }>(
    q,
    `WITH win AS (SELECT event_id, metadata FROM analytics.events WHERE tenant_id = $1 AND event_id > $2 ORDER BY event_id LIMIT $3)
     SELECT (SELECT event_id FROM win ORDER BY event_id DESC LIMIT 1) AS last, w.event_id
       FROM (SELECT 1) one
       LEFT JOIN win w ON strpos(lower(w.metadata::text), $5) > 0 AND w.metadata::text ~* $4`,
    [tenantId, afterEventId, limit, m.pattern, m.needle],
    'event_id',
  )
}

/** Replaces the person in these events' metadata; safe to repeat. */
export async function redactEvents(q: Queryable, tenantId: string, eventIds: readonly string[], m: Matcher): Promise<void> {
  await q.query(
    `UPDATE analytics.events SET metadata = regexp_replace(metadata::text, $3, $4, 'gi')::jsonb
      WHERE tenant_id = $1 AND event_id = ANY($2::text[]) AND metadata::text ~* $3`,
    [tenantId, eventIds, m.pattern, ERASED],
  )
}
