import { getTableColumns, type Table } from 'drizzle-orm'
import { customType, timestamp } from 'drizzle-orm/pg-core'

/** bytea is not a built-in drizzle column type in 0.45. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
})

export const createdAt = () => timestamp('created', { withTimezone: true }).notNull().defaultNow()
export const updatedAt = () => timestamp('updated', { withTimezone: true }).notNull().defaultNow()

/**
 * A table's columns as a SELECT list, read from its drizzle schema: the schema is the one
 * definition of a row's shape (its row type is `typeof table.$inferSelect`).
 */
export function selectList(table: Table, { except = [], alias }: { except?: readonly string[]; alias?: string } = {}): string {
  const prefix = alias ? `${alias}.` : ''
  return Object.values(getTableColumns(table))
    .map((c) => c.name)
    .filter((name) => !except.includes(name))
    .map((name) => `${prefix}${name}`)
    .join(', ')
}
