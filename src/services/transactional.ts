/**
 * Transactional emails (receipts, password resets) live wholly in the content tier: the body and
 * the record commit in one content transaction, and retention treats them as their own kind.
 */
import type { Deps } from '../deps.ts'
import { packBody, unpackBody } from '../content/codec.ts'
import { notFound } from '../http/errors.ts'
import { newId } from '../ids.ts'
import { getContentObject, insertContentObject } from '../tiers/content/objects.ts'
import { getTransactionalEmail, insertTransactionalEmail } from '../tiers/content/transactional.ts'
import { getPolicy } from '../tiers/content/retention.ts'
import { expiresAt } from '../content/retention.ts'
import type { HeaderField } from './messages.ts'

export interface NewTransactionalEmail {
  to_email: string
  from_email: string
  subject: string
  template_key?: string | null
  content_text?: string | null
  content_html?: string | null
  headers: HeaderField[]
}

export async function createTransactionalEmail(deps: Deps, tenantId: string, input: NewTransactionalEmail) {
  const id = newId()
  const storageKey = `${tenantId}/tx/${id}`
  const body = packBody(input.content_text ?? null, input.content_html ?? null, deps.config.COMPRESS_MIN_BYTES)
  return deps.tiers.content.transaction(async (tx) => {
    const expires = expiresAt(await getPolicy(tx, tenantId), 'transactional')
    await insertContentObject(tx, { storageKey, tenantId, kind: 'transactional', body, headers: input.headers, expires })
    return insertTransactionalEmail(tx, {
      id,
      tenant_id: tenantId,
      to_email: input.to_email,
      from_email: input.from_email,
      subject: input.subject,
      template_key: input.template_key ?? null,
      content_storage_key: storageKey,
    })
  })
}

export async function readTransactionalEmail(deps: Deps, tenantId: string, id: string) {
  const row = await getTransactionalEmail(deps.tiers.content, tenantId, id)
  if (!row) throw notFound('transactional email')
  const content = row.content_storage_key ? await getContentObject(deps.tiers.content, tenantId, row.content_storage_key) : undefined
  return {
    ...row,
    content:
      content && content.content_state === 'present'
        ? { ...unpackBody(content), headers: (content.headers ?? []) as HeaderField[] }
        : null,
  }
}
