import { customType, timestamp } from 'drizzle-orm/pg-core'

/** bytea is not a built-in drizzle column type in 0.45. */
export const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
})

export const createdAt = () => timestamp('created', { withTimezone: true }).notNull().defaultNow()
export const updatedAt = () => timestamp('updated', { withTimezone: true }).notNull().defaultNow()
