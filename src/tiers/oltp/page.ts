import { isUuid } from '../../ids.ts'

/** Keyset pagination over UUIDv7 ids (time-ordered), newest first. */
export interface Page<T> {
  data: T[]
  next_cursor: string | null
}

export const encodeCursor = (id: string) => Buffer.from(id, 'utf8').toString('base64url')

/** Returns the id a cursor encodes, or undefined when it is not one of ours. */
export function decodeCursor(cursor: string): string | undefined {
  const id = Buffer.from(cursor, 'base64url').toString('utf8')
  return isUuid(id) ? id.toLowerCase() : undefined
}

/** Callers fetch limit + 1 rows; the extra row only says whether another page exists. */
export function toPage<T extends { id: string }>(rows: T[], limit: number): Page<T> {
  const data = rows.slice(0, limit)
  const more = rows.length > limit
  return { data, next_cursor: more && data.length ? encodeCursor(data[data.length - 1]!.id) : null }
}
