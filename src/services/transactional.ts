/**
 * Transactional emails (receipts, password resets) live wholly in the content tier: the body and
 * the record commit in one content transaction, and retention treats them as their own kind.
 */
import type { Deps } from '../deps.ts'
import { bracketed } from './audit.ts'
import { notFound } from '../errors.ts'
import { newId } from '../ids.ts'
import { checkHeaders } from '../limits.ts'
import { paged, type PageRequest } from '../pagination.ts'
import { transactionalKey } from '../storage-keys.ts'
import { packBody } from '../tiers/content/codec.ts'
import { openContent, sealContent } from './content-seal.ts'
import { getContentObject, insertContentObject } from '../tiers/content/objects.ts'
import { readPolicy } from '../tiers/content/retention.ts'
import { getTransactionalEmail, insertTransactionalEmail, listTransactionalEmails } from '../tiers/content/transactional.ts'
import type { HeaderField } from './message-write.ts'

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
  checkHeaders(input.headers)
  const id = newId()
  const storageKey = transactionalKey(tenantId, id)
  const packed = packBody(input.content_text ?? null, input.content_html ?? null, deps.config.COMPRESS_MIN_BYTES)
  // Transactional bodies are email bodies: sealed like messages, before the transaction (a first write makes the key).
  const body = await sealContent(deps, tenantId, storageKey, packed, input.headers)
  const audited = { tenantId, action: 'transactional_email.create', targetType: 'transactional_email', targetId: id }
  return bracketed(deps, audited, async () => {
    const policy = await readPolicy(deps.tiers.content, tenantId)
    return deps.tiers.content.transaction(async (tx) => {
      const expires = await insertContentObject(tx, { storageKey, tenantId, kind: 'transactional', body, policy })
      return insertTransactionalEmail(tx, {
        id,
        tenant_id: tenantId,
        to_email: input.to_email,
        from_email: input.from_email,
        subject: input.subject,
        template_key: input.template_key ?? null,
        content_storage_key: storageKey,
        expires,
      })
    })
  })
}

export async function listTransactional(deps: Deps, tenantId: string, page: PageRequest) {
  return paged(page, (keyset) => listTransactionalEmails(deps.tiers.content, tenantId, keyset))
}

/** The record with its content; content is null once retention expired it. */
export async function readTransactionalEmail(deps: Deps, tenantId: string, id: string) {
  const row = await getTransactionalEmail(deps.tiers.content, tenantId, id)
  if (!row) throw notFound('transactional email')
  const content = row.content_storage_key ? await getContentObject(deps.tiers.content, tenantId, row.content_storage_key) : undefined
  return {
    ...row,
    content: content && content.content_state === 'present' ? await openContent(deps, tenantId, content) : null,
  }
}
