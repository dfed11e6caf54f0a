/**
 * Multi-row statements (a group commit's, a migration batch's) stay under the protocol's limit of
 * 65,535 parameters: the widest row here binds about 20, so a statement takes at most this many
 * rows and a longer list goes as several statements of the same text (each prepared once).
 */
export const MAX_ROWS_PER_STATEMENT = 1000

/** `rows` in consecutive slices of at most `size`. */
export function inSlices<T>(rows: readonly T[], size = MAX_ROWS_PER_STATEMENT): T[][] {
  const slices: T[][] = []
  for (let i = 0; i < rows.length; i += size) slices.push(rows.slice(i, i + size))
  return slices
}
