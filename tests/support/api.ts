/** In-process HTTP calls (app.request, no port) and the fixtures most API tests need. */
import type { TestSystem } from './system.ts'
import { ADMIN_TOKEN } from './system.ts'

export interface Reply<T = any> {
  status: number
  body: T
  headers: Headers
  raw: Uint8Array
}

export interface CallOptions {
  token?: string
  body?: unknown
  /** Sent as-is instead of JSON. */
  rawBody?: string | Uint8Array
  headers?: Record<string, string>
}

export async function call(sys: TestSystem, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...o.headers }
  if (o.token) headers.authorization = `Bearer ${o.token}`
  let body: RequestInit['body']
  if (o.rawBody !== undefined) body = o.rawBody as RequestInit['body']
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await sys.app.request(path, { method, headers, body })
  const raw = new Uint8Array(await res.arrayBuffer())
  const type = res.headers.get('content-type') ?? ''
  const text = new TextDecoder().decode(raw)
  const parsed = type.includes('json') && text ? JSON.parse(text) : text
  return { status: res.status, body: parsed, headers: res.headers, raw }
}

export interface TenantFixture {
  id: string
  key: string
  accountId: string
}

let counter = 0

/** A tenant with an API key and one mailbox. */
export async function createTenant(sys: TestSystem, name = `tenant-${++counter}`): Promise<TenantFixture> {
  const t = await call(sys, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name } })
  if (t.status !== 201) throw new Error(`tenant create failed: ${t.status} ${JSON.stringify(t.body)}`)
  const a = await call(sys, 'POST', '/v1/email-accounts', {
    token: t.body.api_key,
    body: { email_address: `sales-${counter}@${name}.test` },
  })
  if (a.status !== 201) throw new Error(`account create failed: ${a.status} ${JSON.stringify(a.body)}`)
  return { id: t.body.tenant.id, key: t.body.api_key, accountId: a.body.id }
}

export function messageBody(accountId: string, extra: Record<string, unknown> = {}) {
  return {
    email_account_id: accountId,
    from_email: 'sales@acme.test',
    to_email: 'lead@example.com',
    subject: 'Quick question',
    content_text: 'Hello there',
    ...extra,
  }
}
