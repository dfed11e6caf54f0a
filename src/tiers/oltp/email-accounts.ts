import type { Queryable } from '../../db/types.ts'
import { isForeignKeyViolation } from '../../db/errors.ts'
import { keysetList } from '../../db/keyset.ts'
import { selectList } from '../columns.ts'
import { emailAccounts } from './schema.ts'

export type EmailAccountRow = typeof emailAccounts.$inferSelect

const COLUMNS = selectList(emailAccounts)

/** Returns undefined when the tenant already has this address (case-insensitive). */
export async function insertEmailAccount(
  q: Queryable,
  row: { tenantId: string; id: string; emailAddress: string; displayName: string | null },
): Promise<EmailAccountRow | undefined> {
  const rows = await q.query<EmailAccountRow>(
    `INSERT INTO oltp.email_accounts (tenant_id, id, email_address, display_name) VALUES ($1, $2, $3, $4)
     ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
    [row.tenantId, row.id, row.emailAddress, row.displayName],
  )
  return rows[0]
}

export function listEmailAccounts(q: Queryable, tenantId: string, page: { limit: number; before?: string }) {
  return keysetList<EmailAccountRow>(q, { from: 'oltp.email_accounts', select: COLUMNS, tenantId, ...page })
}

export async function getEmailAccount(q: Queryable, tenantId: string, id: string): Promise<EmailAccountRow | undefined> {
  const rows = await q.query<EmailAccountRow>(`SELECT ${COLUMNS} FROM oltp.email_accounts WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return rows[0]
}

/** A field left undefined keeps its value. Undefined when the tenant has no such mailbox. */
export async function updateEmailAccount(
  q: Queryable,
  tenantId: string,
  id: string,
  patch: { displayName?: string | null; status?: string },
): Promise<EmailAccountRow | undefined> {
  const rows = await q.query<EmailAccountRow>(
    `UPDATE oltp.email_accounts
        SET display_name = CASE WHEN $3::boolean THEN $4::varchar ELSE display_name END,
            status = COALESCE($5::varchar, status), updated = now()
      WHERE tenant_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
    [tenantId, id, patch.displayName !== undefined, patch.displayName ?? null, patch.status ?? null],
  )
  return rows[0]
}

/** `in_use` when messages still name the mailbox: their foreign key keeps it. */
export async function deleteEmailAccount(q: Queryable, tenantId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
  try {
    const rows = await q.query(`DELETE FROM oltp.email_accounts WHERE tenant_id = $1 AND id = $2 RETURNING id`, [tenantId, id])
    return rows.length ? 'deleted' : 'missing'
  } catch (e) {
    if (isForeignKeyViolation(e)) return 'in_use'
    throw e
  }
}

export async function emailAccountExists(q: Queryable, tenantId: string, id: string): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM oltp.email_accounts WHERE tenant_id = $1 AND id = $2`, [tenantId, id])
  return rows.length > 0
}

/** The tenant's mailboxes among these addresses (case-insensitive), in the order given. */
export async function findEmailAccountsByAddress(q: Queryable, tenantId: string, addresses: readonly string[]) {
  if (addresses.length === 0) return []
  const rows = await q.query<{ id: string; email_address: string }>(
    `SELECT id, email_address FROM oltp.email_accounts WHERE tenant_id = $1 AND lower(email_address) = ANY($2::text[])`,
    [tenantId, addresses.map((a) => a.toLowerCase())],
  )
  const order = addresses.map((a) => a.toLowerCase())
  return rows.sort((a, b) => order.indexOf(a.email_address.toLowerCase()) - order.indexOf(b.email_address.toLowerCase()))
}
