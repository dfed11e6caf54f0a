import { decodeCursor } from '../tiers/oltp/page.ts'
import { ApiError } from './errors.ts'

/** The id a ?cursor= names; a cursor we did not issue is a 422 naming the field. */
export function cursorToId(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined
  const id = decodeCursor(cursor)
  if (!id) throw new ApiError('validation_failed', 'invalid cursor', [{ field: 'cursor', message: 'not a cursor this API issued' }])
  return id
}
