/**
 * Mailboxes: one address per tenant, compared without case. The address is what inbound mail is
 * routed by and what stored messages were sent from, so it does not change: a new address is a
 * new mailbox. One that messages name is never deleted (409): set its status to archived.
 */
import { readerOf } from '../db/tiers.ts'
import type { Deps } from '../deps.ts'
import { audit, changed } from './audit.ts'
import { conflict, conflictWith, notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import {
  deleteEmailAccount as deleteRow,
  getEmailAccount as getRow,
  insertEmailAccount,
  listEmailAccounts as listRows,
  updateEmailAccount as updateRow,
} from '../tiers/oltp/email-accounts.ts'

/** active: in use; paused: not to send from for now; archived: retired, kept with its messages. */
export const EMAIL_ACCOUNT_STATUSES = ['active', 'paused', 'archived'] as const

export async function createEmailAccount(deps: Deps, tenantId: string, a: { email_address: string; display_name?: string | null }) {
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await insertEmailAccount(tx, {
      tenantId,
      id: newId(),
      emailAddress: a.email_address,
      displayName: a.display_name ?? null,
    })
    if (!row) throw conflict('this tenant already has that email address', 'email_address')
    await audit(tx, { tenantId, action: 'email_account.create', targetType: 'email_account', targetId: row.id })
    return row
  })
}

export async function listEmailAccounts(deps: Deps, tenantId: string, page: PageRequest) {
  return paged(page, (keyset) => listRows(readerOf(deps.tiers, 'oltp'), tenantId, keyset))
}

export async function getEmailAccount(deps: Deps, tenantId: string, id: string) {
  const row = await getRow(deps.tiers.oltp, tenantId, id)
  if (!row) throw notFound('email account')
  return row
}

export async function updateEmailAccount(
  deps: Deps,
  tenantId: string,
  id: string,
  patch: { display_name?: string | null; status?: (typeof EMAIL_ACCOUNT_STATUSES)[number] },
) {
  if (patch.display_name === undefined && patch.status === undefined) return getEmailAccount(deps, tenantId, id)
  return deps.tiers.oltp.transaction(async (tx) => {
    const row = await updateRow(tx, tenantId, id, { displayName: patch.display_name, status: patch.status })
    if (!row) throw notFound('email account')
    await audit(tx, { tenantId, action: 'email_account.update', targetType: 'email_account', targetId: id, detail: changed(patch) })
    return row
  })
}

export async function deleteEmailAccount(deps: Deps, tenantId: string, id: string): Promise<void> {
  await deps.tiers.oltp.transaction(async (tx) => {
    const result = await deleteRow(tx, tenantId, id)
    if (result === 'missing') throw notFound('email account')
    if (result === 'in_use') throw conflictWith('messages name this mailbox; archive it instead (status archived)', 'id', 'has messages')
    await audit(tx, { tenantId, action: 'email_account.delete', targetType: 'email_account', targetId: id })
  })
}
