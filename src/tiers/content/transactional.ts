import type { Queryable } from '../../db/types.ts'

export interface TransactionalEmailRow {
  id: string
  tenant_id: string
  to_email: string
  from_email: string
  subject: string
  template_key: string | null
  content_storage_key: string | null
  status: string
  created: Date
  expires: Date | null
}

const COLUMNS = 'id, tenant_id, to_email, from_email, subject, template_key, content_storage_key, status, created, expires'

export async function insertTransactionalEmail(
  q: Queryable,
  r: Omit<TransactionalEmailRow, 'status' | 'created' | 'expires'>,
): Promise<TransactionalEmailRow> {
  // The record expires with its body.
  const rows = await q.query<TransactionalEmailRow>(
    `INSERT INTO content.transactional_emails (id, tenant_id, to_email, from_email, subject, template_key, content_storage_key, expires)
     VALUES ($1, $2, $3, $4, $5, $6, $7::varchar, (SELECT expires FROM content.content_objects WHERE storage_key = $7::varchar))
     RETURNING ${COLUMNS}`,
    [r.id, r.tenant_id, r.to_email, r.from_email, r.subject, r.template_key, r.content_storage_key],
  )
  return rows[0]!
}

export async function getTransactionalEmail(q: Queryable, tenantId: string, id: string) {
  const rows = await q.query<TransactionalEmailRow>(
    `SELECT ${COLUMNS} FROM content.transactional_emails WHERE tenant_id = $1 AND id = $2`,
    [tenantId, id],
  )
  return rows[0]
}

export function listTransactionalEmails(q: Queryable, tenantId: string, limit: number, before?: string) {
  return q.query<TransactionalEmailRow>(
    `SELECT ${COLUMNS} FROM content.transactional_emails
      WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id < $2::uuid) ORDER BY id DESC LIMIT $3`,
    [tenantId, before ?? null, limit + 1],
  )
}
