import type { Queryable } from '../../db/types.ts'
import { equals, keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { expiresSql, readPolicy } from './retention.ts'
import { notifications } from './schema.ts'

export type NotificationRow = typeof notifications.$inferSelect

const COLUMNS = selectList(notifications)

/** Stores a notification; it expires under the tenant's notification retention. */
export async function insertNotification(
  q: Queryable,
  r: Pick<NotificationRow, 'id' | 'tenant_id' | 'user_id' | 'channel' | 'title' | 'body' | 'data'>,
): Promise<NotificationRow> {
  const params: unknown[] = [r.id, r.tenant_id, r.user_id, r.channel, r.title, r.body, r.data == null ? null : JSON.stringify(r.data)]
  const expires = expiresSql(await readPolicy(q, r.tenant_id), 'notification', params)
  const rows = await q.query<NotificationRow>(
    `INSERT INTO content.notifications (id, tenant_id, user_id, channel, title, body, data, expires)
     VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, ${expires}) RETURNING ${COLUMNS}`,
    params,
  )
  return rows[0]!
}

export function listNotifications(q: Queryable, tenantId: string, page: { limit: number; before?: string }, userId?: string) {
  return keysetList<NotificationRow>(q, {
    from: 'content.notifications',
    select: COLUMNS,
    tenantId,
    where: [equals('user_id', userId, 'uuid')],
    ...page,
  })
}

export async function getNotification(q: Queryable, tenantId: string, id: string): Promise<NotificationRow | undefined> {
  const rows = await q.query<NotificationRow>(`SELECT ${COLUMNS} FROM content.notifications WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return rows[0]
}

/**
 * Marks it read (keeping the first read_at when it already was) or unread. Two statements: a
 * cluster evaluates now() on the coordinator only outside CASE and COALESCE.
 */
export async function setNotificationRead(q: Queryable, tenantId: string, id: string, read: boolean): Promise<NotificationRow | undefined> {
  await q.query(
    read
      ? `UPDATE content.notifications SET read_at = now() WHERE tenant_id = $1 AND id = $2 AND read_at IS NULL`
      : `UPDATE content.notifications SET read_at = NULL WHERE tenant_id = $1 AND id = $2 AND read_at IS NOT NULL`,
    [tenantId, id],
  )
  return getNotification(q, tenantId, id)
}
