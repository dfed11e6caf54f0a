/**
 * One legacy row → the message the migration stores, through the mapping: vocabularies, headers
 * in either format, attachment names and types made safe the way the write path makes them. Pure:
 * migrate and verify both call it, so verify compares what was stored with what should have been.
 * A value that cannot map is an error naming the legacy id, the column and the mapping setting.
 */
import { safeFilename, storedMimeType } from '../content-safety.ts'
import { invalid } from '../errors.ts'
import { isUuid } from '../ids.ts'
import type { AttachmentInput, HeaderField } from '../services/message-write.ts'
import { messageIdFor } from './ids.ts'
import type { Mapping, MappedField } from './mapping.ts'
import type { LegacyAttachment, LegacyRow } from './source.ts'

export interface MigratedMessage {
  legacy_id: string
  tenant_id: string
  id: string
  /** A uuid, or an address the service looks up among the tenant's mailboxes. */
  email_account: { id: string } | { address: string }
  /** The legacy id of the row this one answers; the service turns it into our id. */
  parent_legacy_id: string | null
  created: Date
  campaign_id: string | null
  sequence_step_id: string | null
  lead_id: string | null
  direction: 'inbound' | 'outbound'
  message_type: 'email' | 'bounce' | 'auto_reply'
  from_email: string
  to_email: string
  subject: string
  status: string
  rfc822_message_id: string | null
  content_text: string | null
  content_html: string | null
  headers: HeaderField[] | null
  attachments: AttachmentInput[]
}

const DIRECTIONS = ['inbound', 'outbound'] as const
const TYPES = ['email', 'bounce', 'auto_reply'] as const

/** A raw RFC 5322 header block: one field per line, continuation lines unfolded. */
export function parseRawHeaders(raw: string): HeaderField[] {
  const fields: HeaderField[] = []
  for (const line of raw.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length) fields[fields.length - 1]!.value += ` ${line.trim()}`
    else if (line.includes(':')) {
      const at = line.indexOf(':')
      fields.push({ name: line.slice(0, at).trim(), value: line.slice(at + 1).trim() })
    }
  }
  return fields
}

/** JSON headers: an ordered [{ name, value }] list, or an object (an array value is a repeated field). */
function parseJsonHeaders(text: string): HeaderField[] {
  const json: unknown = JSON.parse(text)
  if (Array.isArray(json)) return json.map((h: { name?: unknown; value?: unknown }) => ({ name: String(h.name), value: String(h.value ?? '') }))
  if (json && typeof json === 'object') {
    return Object.entries(json).flatMap(([name, v]) => (Array.isArray(v) ? v : [v]).map((value) => ({ name, value: String(value) })))
  }
  throw new Error('neither a list nor an object')
}

export function transformRow(m: Mapping, row: LegacyRow, files: readonly LegacyAttachment[], tenantOverride: string | null): MigratedMessage {
  const fail = (field: MappedField | 'tenant_column', problem: string): never => {
    const setting = field === 'tenant_column' ? field : `columns.${field}`
    const column = field === 'tenant_column' ? m.tenant_column : m.columns[field]
    throw invalid(`legacy row ${row.legacy_id}: column "${column}" (mapping setting ${setting}) ${problem}`, setting, problem)
  }
  const uuid = (field: MappedField, value: string | null) => {
    if (value !== null && !isUuid(value)) fail(field, `is not a uuid: ${JSON.stringify(value)}`)
    return value
  }
  const required = (field: MappedField, value: string | null) => (value === null || value === '' ? fail(field, 'is empty') : value)
  const vocabulary = <T extends string>(field: 'direction' | 'message_type', value: string, ours: readonly T[]): T => {
    const mapped = (m.values[field] as Record<string, T>)[value] ?? (ours.includes(value as T) ? (value as T) : undefined)
    return mapped ?? fail(field, `has ${JSON.stringify(value)}, which mapping setting values.${field} does not map`)
  }

  // A raw message: body, headers and its own attachments from the parser; the envelope fields
  // from it where the mapping names no column.
  const parsed = row.parsed
  if (parsed && 'error' in parsed) fail('raw_mime', `is not a readable message: ${parsed.error}`)
  const mail = parsed && !('error' in parsed) ? parsed : null
  if (mail) {
    row = {
      ...row,
      from_email: row.from_email ?? (mail.from || null),
      to_email: row.to_email ?? mail.recipients[0] ?? null,
      subject: row.subject ?? mail.subject,
      rfc822_message_id: row.rfc822_message_id || mail.messageId,
    }
  }
  const tenant = tenantOverride ?? row.tenant_id
  if (!tenant || !isUuid(tenant)) fail('tenant_column', `is not a tenant uuid: ${JSON.stringify(tenant)}`)
  const created = row.created ?? fail('created', 'is empty')
  const direction = vocabulary('direction', required('direction', row.direction), DIRECTIONS)
  const account = required(m.columns.email_account_id ? 'email_account_id' : 'email_account_address', row.email_account)
  let headers: HeaderField[] | null = mail ? mail.headers : null
  if (!mail && row.headers !== null) {
    try {
      headers = m.headers_format === 'raw' ? parseRawHeaders(row.headers) : parseJsonHeaders(row.headers)
    } catch (err) {
      fail('headers', `is not ${m.headers_format} headers (${(err as Error).message}); see mapping setting headers_format`)
    }
  }
  return {
    legacy_id: row.legacy_id,
    tenant_id: tenant!.toLowerCase(),
    id: messageIdFor(m.id.type, m.id.namespace ?? m.table, row.legacy_id, created),
    email_account: m.columns.email_account_id ? { id: uuid('email_account_id', account)! } : { address: account },
    parent_legacy_id: row.parent_id,
    created,
    campaign_id: uuid('campaign_id', row.campaign_id),
    sequence_step_id: uuid('sequence_step_id', row.sequence_step_id),
    lead_id: uuid('lead_id', row.lead_id),
    direction,
    message_type: row.message_type === null ? 'email' : vocabulary('message_type', row.message_type, TYPES),
    from_email: required('from_email', row.from_email),
    to_email: required('to_email', row.to_email),
    subject: row.subject ?? '',
    status: row.status === null ? (direction === 'outbound' ? 'sent' : 'received') : (m.values.status[row.status] ?? row.status),
    rfc822_message_id: row.rfc822_message_id || null,
    content_text: mail ? mail.text : row.content_text,
    content_html: mail ? mail.html : row.content_html,
    headers,
    attachments: [
      ...files.map((f) => {
        if (f.content === null) throw invalid(`legacy row ${row.legacy_id}: an attachment has no content`, 'attachments.content', 'is empty')
        return {
          filename: safeFilename(f.filename ?? ''),
          mime_type: storedMimeType(f.mime_type ?? ''),
          bytes: f.content,
          storage_disposition: f.disposition ?? 'attachment',
        }
      }),
      // The message's own parts, inline (a cid: image) or attached, as the inbound path stores them.
      ...(mail?.attachments ?? []).map((a) => ({
        filename: safeFilename(a.filename),
        mime_type: storedMimeType(a.mimeType),
        bytes: a.bytes,
        storage_disposition: a.disposition,
      })),
    ],
  }
}
