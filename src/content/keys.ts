/**
 * A message body's storage key embeds the tenant and the message id, so the content tier can be
 * checked against OLTP by primary key (no extra index on the hot refs table).
 */
export const storageKeyFor = (tenantId: string, messageId: string) => `${tenantId}/msg/${messageId}`

export function messageIdFromStorageKey(key: string): string | undefined {
  const m = /^[0-9a-f-]{36}\/msg\/([0-9a-f-]{36})$/.exec(key)
  return m?.[1]
}
