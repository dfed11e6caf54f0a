import type { Queryable } from '../../db/types.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { transactionalEmails } from './schema.ts'

export type TransactionalEmailRow = typeof transactionalEmails.$inferSelect

const COLUMNS = selectList(transactionalEmails)

/** Stores a transactional record; `expires` is its body's, so the two go together. */
export async function insertTransactionalEmail(
  q: Queryable,
  r: Omit<TransactionalEmailRow, 'status' | 'created'>,
): Promise<TransactionalEmailRow> {
  const rows = await q.query<TransactionalEmailRow>(
    `INSERT INTO content.transactional_emails (id, tenant_id, to_email, from_email, subject, template_key, content_storage_key, expires)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     RETURNING ${COLUMNS}`,
    [r.id, r.tenant_id, r.to_email, r.from_email, r.subject, r.template_key, r.content_storage_key, r.expires],
  )
  return rows[0]!
}

export async function getTransactionalEmail(q: Queryable, tenantId: string, id: string) {
  const rows = await q.query<TransactionalEmailRow>(`SELECT ${COLUMNS} FROM content.transactional_emails WHERE tenant_id = $1 AND id = $2`, [
    tenantId,
    id,
  ])
  return rows[0]
}

export function listTransactionalEmails(q: Queryable, tenantId: string, page: { limit: number; before?: string }) {
  return keysetList<TransactionalEmailRow>(q, { from: 'content.transactional_emails', select: COLUMNS, tenantId, ...page })
}
