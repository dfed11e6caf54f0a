/** In-app (and other channel) notifications, stored in the content tier and expired by retention. */
import type { Deps } from '../deps.ts'
import { bracketed } from './audit.ts'
import { notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { checkMetadata } from '../limits.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { getNotification as getRow, insertNotification, listNotifications as listRows, setNotificationRead } from '../tiers/content/notifications.ts'

export interface NewNotification {
  title: string
  body?: string | null
  user_id?: string | null
  channel: string
  data?: Record<string, unknown> | null
}

export async function createNotification(deps: Deps, tenantId: string, n: NewNotification) {
  checkMetadata(n.data, 'data')
  const id = newId()
  // The content tier is not OLTP: the intent is recorded first (src/services/audit.ts).
  return bracketed(deps, { tenantId, action: 'notification.create', targetType: 'notification', targetId: id }, () =>
    insertNotification(deps.tiers.content, {
      id,
      tenant_id: tenantId,
      user_id: n.user_id ?? null,
      channel: n.channel,
      title: n.title,
      body: n.body ?? null,
      data: n.data ?? null,
    }),
  )
}

export async function listNotifications(deps: Deps, tenantId: string, page: PageRequest, userId?: string) {
  return paged(page, (keyset) => listRows(deps.tiers.content, tenantId, keyset, userId))
}

export async function getNotification(deps: Deps, tenantId: string, id: string) {
  const row = await getRow(deps.tiers.content, tenantId, id)
  if (!row) throw notFound('notification')
  return row
}

/** Read sets read_at once (marking it read again keeps the first time); unread clears it. */
export async function markNotification(deps: Deps, tenantId: string, id: string, read: boolean) {
  // A foreign or unknown id is refused before any intent is recorded.
  if (!(await getRow(deps.tiers.content, tenantId, id))) throw notFound('notification')
  const row = await bracketed(deps, { tenantId, action: 'notification.update', targetType: 'notification', targetId: id, detail: { read } }, async () => {
    const row = await setNotificationRead(deps.tiers.content, tenantId, id, read)
    if (!row) throw notFound('notification')
    return row
  })
  return row
}
