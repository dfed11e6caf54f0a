/**
 * Which message id a legacy row becomes. A uuid is kept, so links into the legacy system stay
 * valid. Any other id becomes a UUIDv8 laid out like a UUIDv7: the original date's milliseconds
 * first (listings are "newest first by id", so migrated mail sorts among new mail by its date),
 * then bits of sha256(namespace, legacy id). The same row always gets the same id, so a re-run
 * cannot duplicate it; the id map (oltp.legacy_ids) keeps the pair for threading and rollback.
 */
import { createHash } from 'node:crypto'
import { isUuid } from '../ids.ts'

export function messageIdFor(type: 'uuid' | 'bigint', namespace: string, legacyId: string, created: Date): string {
  if (type === 'uuid') {
    if (!isUuid(legacyId)) throw new Error(`not a uuid: ${legacyId}`)
    return legacyId.toLowerCase()
  }
  const h = createHash('sha256').update(namespace).update('\0').update(legacyId).digest()
  const b = Buffer.alloc(16)
  b.writeUIntBE(Math.max(0, Math.min(created.getTime(), 2 ** 48 - 1)), 0, 6)
  b[6] = 0x80 | (h[0]! & 0x0f) // version 8
  b[7] = h[1]!
  b[8] = 0x80 | (h[2]! & 0x3f) // RFC 9562 variant
  h.copy(b, 9, 3, 10)
  const x = b.toString('hex')
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`
}
