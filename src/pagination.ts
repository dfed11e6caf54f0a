/**
 * The API's listings: newest first, keyset pagination on UUIDv7 ids (time-ordered), and the one
 * cursor format. The cursor is opaque to clients; it encodes the last id of a page.
 */
import { invalid } from './errors.ts'
import { isUuid } from './ids.ts'

export interface Page<T> {
  data: T[]
  next_cursor: string | null
}

/** What a listing asks for: at most `limit` rows, older than the row the cursor names. */
export interface PageRequest {
  limit: number
  cursor?: string
}

const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url')

/** A bigint serial id (the audit log's), as decimal text. */
const isSerial = (id: string) => /^[1-9][0-9]{0,18}$/.test(id)

/** The id a cursor names; a cursor this API did not issue is a validation error naming `cursor`. */
function cursorId(cursor: string | undefined, valid: (id: string) => boolean = isUuid): string | undefined {
  if (cursor === undefined) return undefined
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  if (!valid(id)) throw invalid('invalid cursor', 'cursor', 'not a cursor this API issued')
  return id.toLowerCase()
}

/** Listings fetch limit + 1 rows; the extra row only says whether another page exists. */
function pageOf<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit)
  const more = rows.length > limit
  return { data, next_cursor: more && data.length ? encodeCursor(data[data.length - 1]!.id) : null }
}

/** Answers a page request with a keyset listing (src/db/keyset.ts) that takes the cursor's id and the limit. */
export async function paged<T extends { id: string }>(
  page: PageRequest,
  list: (keyset: { before?: string; limit: number }) => Promise<T[]>,
): Promise<Page<T>> {
  return pageOf(await list({ before: cursorId(page.cursor), limit: page.limit }), page.limit)
}

/** The same, for a listing keyed by a bigint serial instead of a UUIDv7 (the audit log). */
export async function pagedBySerial<T extends { id: string }>(
  page: PageRequest,
  list: (keyset: { before?: string; limit: number }) => Promise<T[]>,
): Promise<Page<T>> {
  return pageOf(await list({ before: cursorId(page.cursor, isSerial), limit: page.limit }), page.limit)
}
