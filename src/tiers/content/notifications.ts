import type { Queryable } from '../../db/types.ts'

export interface NotificationRow {
  id: string
  tenant_id: string
  user_id: string | null
  channel: string
  title: string
  body: string | null
  data: unknown
  read_at: Date | null
  created: Date
  expires: Date | null
}

const COLUMNS = 'id, tenant_id, user_id, channel, title, body, data, read_at, created, expires'

export async function insertNotification(
  q: Queryable,
  r: {
    id: string
    tenantId: string
    userId: string | null
    channel: string
    title: string
    body: string | null
    data: unknown
    expires: Date | null
  },
): Promise<NotificationRow> {
  const rows = await q.query<NotificationRow>(
    `INSERT INTO content.notifications (id, tenant_id, user_id, channel, title, body, data, expires)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8) RETURNING ${COLUMNS}`,
    [r.id, r.tenantId, r.userId, r.channel, r.title, r.body, r.data === undefined ? null : JSON.stringify(r.data), r.expires],
  )
  return rows[0]!
}

export function listNotifications(q: Queryable, tenantId: string, limit: number, before?: string, userId?: string) {
  return q.query<NotificationRow>(
    `SELECT ${COLUMNS} FROM content.notifications
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) AND ($3::uuid IS NULL OR user_id = $3::uuid)
      ORDER BY id DESC LIMIT $4`,
    [tenantId, before ?? null, userId ?? null, limit + 1],
  )
}
