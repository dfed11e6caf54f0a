/**
 * The one owner of the content storage-key format, in TypeScript and in SQL. A message body's key
 * embeds its tenant and message id (`{tenant}/msg/{message}`), so the content tier can be checked
 * against OLTP by primary key and a ref need not store its key at all; a transactional email's
 * body is `{tenant}/tx/{id}`. Every module that builds, parses or derives a key calls this one.
 */

export const messageKey = (tenantId: string, messageId: string) => `${tenantId}/msg/${messageId}`

export const transactionalKey = (tenantId: string, id: string) => `${tenantId}/tx/${id}`

/** The message id a message body's key names; undefined for any other key. */
export function messageIdOfKey(key: string): string | undefined {
  return /^[0-9a-f-]{36}\/msg\/([0-9a-f-]{36})$/.exec(key)?.[1]
}

/** SQL: the default message key from a row's tenant and message id columns. */
export const messageKeySql = (tenantColumn: string, idColumn: string) => `${tenantColumn}::text || '/msg/' || ${idColumn}::text`

/** SQL: the message id segment of a key column (empty for keys of other kinds). */
export const messageIdOfKeySql = (keyColumn: string) => `CASE WHEN split_part(${keyColumn}, '/', 2) = 'msg' THEN split_part(${keyColumn}, '/', 3) ELSE '' END`
