/**
 * Which constraint a failed statement broke, read from its SQLSTATE: PGlite and postgres.js both
 * put it in `code`. Tier modules turn these into results ("conflict", "in use") so a race that
 * slips past a check still answers 409, never 500.
 */
const sqlState = (e: unknown): string | undefined =>
  typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined

export const isUniqueViolation = (e: unknown) => sqlState(e) === '23505'

/** A row that others still reference (ON DELETE NO ACTION), or a reference to a missing row. */
export const isForeignKeyViolation = (e: unknown) => sqlState(e) === '23503'
