/** Mailboxes: one address per tenant, compared without case. */
import type { Deps } from '../deps.ts'
import { conflict } from '../errors.ts'
import { newId } from '../ids.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { insertEmailAccount, listEmailAccounts as listRows } from '../tiers/oltp/email-accounts.ts'

export async function createEmailAccount(deps: Deps, tenantId: string, a: { email_address: string; display_name?: string | null }) {
  const row = await insertEmailAccount(deps.tiers.oltp, {
    tenantId,
    id: newId(),
    emailAddress: a.email_address,
    displayName: a.display_name ?? null,
  })
  if (!row) throw conflict('this tenant already has that email address', 'email_address')
  return row
}

export async function listEmailAccounts(deps: Deps, tenantId: string, page: PageRequest) {
  return paged(page, (keyset) => listRows(deps.tiers.oltp, tenantId, keyset))
}
