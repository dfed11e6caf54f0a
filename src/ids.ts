import { createHash, randomBytes } from 'node:crypto'
import { uuidv7 } from './runtime.ts'

/**
 * Time-ordered ids: index-friendly inserts and "newest first" is "highest id first" (strictly
 * increasing within a process, even within one millisecond: src/runtime.ts).
 */
export const newId = (): string => uuidv7()

export const sha256Hex = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex')

/** An API key: a recognisable prefix plus 32 random bytes. Only its sha256 is stored. */
export function newApiKey(): { key: string; prefix: string; hash: string } {
  const key = `edp_${randomBytes(32).toString('base64url')}`
  return { key, prefix: key.slice(0, 12), hash: sha256Hex(key) }
}

export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

/** The nil uuid: a cursor before every uuid, and the tenant of rows that belong to none (src/tiers/oltp/audit-log.ts). */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000'
