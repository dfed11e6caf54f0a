/**
 * The authorization matrix: every tenant route × a key holding only the scope it needs, a key
 * holding every other scope, a foreign tenant's key, a revoked key and an expired key. The
 * expected scope of each route is written out here, so a route added without a decision fails.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { SCOPES, type Scope } from '../../src/scopes.ts'
import { KeyUsage } from '../../src/services/api-keys.ts'
import { createApp } from '../../src/http/app.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { TestClock } from '../support/clock.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { eventually } from '../support/eventually.ts'

const sys = useSystem()

/** What each route needs, by "METHOD path" as the OpenAPI document names it. */
const NEEDS: Record<string, Scope> = {
  'post /v1/email-accounts': 'campaigns:write',
  'get /v1/email-accounts': 'campaigns:read',
  'get /v1/email-accounts/{id}': 'campaigns:read',
  'patch /v1/email-accounts/{id}': 'campaigns:write',
  'delete /v1/email-accounts/{id}': 'campaigns:write',
  'post /v1/campaigns': 'campaigns:write',
  'get /v1/campaigns': 'campaigns:read',
  'get /v1/campaigns/{id}': 'campaigns:read',
  'patch /v1/campaigns/{id}': 'campaigns:write',
  'delete /v1/campaigns/{id}': 'campaigns:write',
  'post /v1/campaigns/{id}/steps': 'campaigns:write',
  'get /v1/campaigns/{id}/steps': 'campaigns:read',
  'get /v1/campaigns/{id}/steps/{step_id}': 'campaigns:read',
  'patch /v1/campaigns/{id}/steps/{step_id}': 'campaigns:write',
  'delete /v1/campaigns/{id}/steps/{step_id}': 'campaigns:write',
  'post /v1/leads': 'leads:write',
  'get /v1/leads': 'leads:read',
  'get /v1/leads/{id}': 'leads:read',
  'patch /v1/leads/{id}': 'leads:write',
  'delete /v1/leads/{id}': 'leads:write',
  'post /v1/leads/import': 'leads:write',
  'get /v1/suppressions': 'leads:read',
  'get /v1/suppressions/check': 'leads:read',
  'post /v1/suppressions': 'leads:write',
  'delete /v1/suppressions/{email}': 'leads:write',
  'put /v1/webhook-settings': 'admin',
  'get /v1/webhook-settings/{provider}': 'admin',
  'post /v1/messages': 'messages:write',
  'post /v1/messages/batch': 'messages:write',
  'get /v1/messages': 'messages:read',
  'get /v1/messages/{id}': 'messages:read',
  'get /v1/messages/{id}/content': 'messages:read',
  'get /v1/messages/{id}/attachments/{attachment_id}': 'messages:read',
  'get /v1/messages/{id}/thread': 'messages:read',
  'post /v1/events': 'events:write',
  'post /v1/inbound': 'inbound:write',
  'get /v1/storage': 'admin',
  'get /v1/retention-policy': 'admin',
  'put /v1/retention-policy': 'admin',
  'post /v1/transactional-emails': 'messages:write',
  'get /v1/transactional-emails': 'messages:read',
  'get /v1/transactional-emails/{id}': 'messages:read',
  'post /v1/notifications': 'messages:write',
  'get /v1/notifications': 'messages:read',
  'get /v1/notifications/{id}': 'messages:read',
  'patch /v1/notifications/{id}': 'messages:write',
  'get /v1/analytics/campaigns/{id}': 'analytics:read',
  'get /v1/analytics/campaigns/{id}/steps': 'analytics:read',
  'get /v1/analytics/email-accounts/{id}': 'analytics:read',
  'post /v1/api-keys': 'admin',
  'get /v1/api-keys': 'admin',
  'delete /v1/api-keys/{id}': 'admin',
  'post /v1/erasure-requests': 'admin',
  'get /v1/erasure-requests': 'admin',
  'get /v1/erasure-requests/{id}': 'admin',
  'get /v1/audit-log': 'admin',
}

/** Operator routes take an admin token and no tenant key. */
const ADMIN_ROUTES = [
  'post /v1/tenants',
  'get /v1/tenants',
  'patch /v1/tenants/{id}',
  // Called with tenant a's id and an admin token: a tenant still active is refused (409), so the matrix deletes nothing.
  'delete /v1/tenants/{id}',
  'get /v1/tenants/{id}/deletion',
  'get /v1/admin/queues',
  'get /v1/admin/storage',
  'get /v1/admin/doctor',
  'get /v1/admin/overview',
  'get /v1/admin/audit-log',
]

/** Called by email providers, verified by their signatures (tests/webhooks/receive.test.ts), not by a key. */
const PROVIDER_ROUTES = ['post /v1/webhooks/{provider}']

interface Fixture extends TenantFixture {
  ids: Record<string, string>
}

let a: Fixture
let b: TenantFixture
const keys = {} as Record<Scope, { id: string; key: string }>

async function newKey(owner: TenantFixture, scopes: readonly Scope[], extra: Record<string, unknown> = {}) {
  const r = await call(sys, 'POST', '/v1/api-keys', { token: owner.key, body: { name: scopes.length > 2 ? 'many' : scopes.join(' '), scopes, ...extra } })
  if (r.status !== 201) throw new Error(`key create failed: ${r.status} ${JSON.stringify(r.body)}`)
  return r.body as { id: string; key: string }
}

/** The route's path with the fixture tenant's ids in it. */
function concrete(route: string, f: Fixture): string {
  const path = route.split(' ')[1]!
  const prefix = path.split('/')[2]!
  const id =
    { campaigns: f.ids.campaign, messages: f.ids.message, 'transactional-emails': f.ids.transactional, 'api-keys': f.ids.key }[prefix] ??
    (path.includes('email-accounts') ? f.accountId : f.ids.campaign)
  return path
    .replace('{id}', id!)
    .replace('{attachment_id}', f.ids.attachment!)
    .replace('{step_id}', f.ids.step!)
    .replace('{email}', 'someone@example.com')
    .replace('{provider}', 'mailgun')
}

const routesOf = () =>
  sys.app.openAPIRegistry.definitions.flatMap((d) => (d.type === 'route' ? [`${d.route.method} ${d.route.path}`] : []))

beforeAll(async () => {
  const t = await createTenant(sys, 'authz-a')
  const campaign = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'c' } })
  const step = await call(sys, 'POST', `/v1/campaigns/${campaign.body.id}/steps`, { token: t.key, body: { step_number: 1 } })
  const msg = await call(sys, 'POST', '/v1/messages', {
    token: t.key,
    body: messageBody(t.accountId, { attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: 'aGk=' }] }),
  })
  const detail = await call(sys, 'GET', `/v1/messages/${msg.body.id}`, { token: t.key })
  const tx = await call(sys, 'POST', '/v1/transactional-emails', { token: t.key, body: { to_email: 'x@example.com', from_email: 'a@a.test', subject: 's', content_text: 't' } })
  const spare = await newKey(t, ['messages:read'])
  a = { ...t, ids: { campaign: campaign.body.id, step: step.body.id, message: msg.body.id, attachment: detail.body.attachments[0].id, transactional: tx.body.id, key: spare.id } }
  b = await createTenant(sys, 'authz-b')
  for (const scope of SCOPES) {
    keys[scope] = await newKey(a, [scope])
  }
})

describe('authorization matrix', () => {
  test('every tenant route has a decided scope, and operator and provider routes are the only others', () => {
    const tenantRoutes = routesOf().filter((r) => r.includes(' /v1/') && !ADMIN_ROUTES.includes(r) && !PROVIDER_ROUTES.includes(r))
    expect(tenantRoutes.sort()).toEqual(Object.keys(NEEDS).sort())
  })

  test('a key with only the needed scope gets past authorization; a key with every other scope gets 403 naming it', async () => {
    for (const [route, scope] of Object.entries(NEEDS)) {
      const method = route.split(' ')[0]!.toUpperCase()
      const path = concrete(route, a)
      const allowed = await call(sys, method, path, { token: keys[scope].key, body: method === 'GET' || method === 'DELETE' ? undefined : {} })
      expect({ route, refused: [401, 403].includes(allowed.status) }).toEqual({ route, refused: false })
      const others = await newKey(a, SCOPES.filter((s) => s !== scope))
      const refused = await call(sys, method, path, { token: others.key, body: method === 'GET' || method === 'DELETE' ? undefined : {} })
      expect({ route, status: refused.status, scope: refused.body.scope }).toEqual({ route, status: 403, scope })
      expect(refused.body.detail).toContain(scope)
    }
  })

  test('a foreign tenant’s key with every scope cannot see or revoke this tenant’s keys', async () => {
    const target = await newKey(a, ['messages:read'])
    const listed = await call(sys, 'GET', '/v1/api-keys', { token: b.key })
    expect(listed.status).toBe(200)
    expect(JSON.stringify(listed.body)).not.toContain(a.id)
    const revoke = await call(sys, 'DELETE', `/v1/api-keys/${target.id}`, { token: b.key })
    expect(revoke.status).toBe(404)
    expect((await call(sys, 'GET', '/v1/campaigns', { token: target.key })).status).toBe(403)
    const mine = await call(sys, 'GET', '/v1/api-keys', { token: a.key })
    expect(mine.body.data.find((k: any) => k.id === target.id).revoked).toBeNull()
  })

  test('a revoked key and an expired key get 401 on every route', async () => {
    const revoked = await newKey(a, SCOPES)
    expect((await call(sys, 'GET', '/v1/campaigns', { token: revoked.key })).status).toBe(200)
    expect((await call(sys, 'DELETE', `/v1/api-keys/${revoked.id}`, { token: a.key })).status).toBe(200)
    const expiring = await newKey(a, SCOPES, { expires_at: new Date(Date.now() + 1500).toISOString() })
    expect((await call(sys, 'GET', '/v1/campaigns', { token: expiring.key })).status).toBe(200)
    await eventually(async () => (await call(sys, 'GET', '/v1/campaigns', { token: expiring.key })).status === 401, 'the key to expire', 5000)
    for (const route of Object.keys(NEEDS)) {
      const method = route.split(' ')[0]!.toUpperCase()
      for (const key of [revoked.key, expiring.key]) {
        const r = await call(sys, method, concrete(route, a), { token: key, body: method === 'GET' || method === 'DELETE' ? undefined : {} })
        expect({ route, status: r.status }).toEqual({ route, status: 401 })
      }
    }
  })

  test('operator routes take any configured admin token and refuse a tenant key with every scope', async () => {
    // Rotation: the old token and the new one both work while clients move over.
    const rotated = createApp(makeDeps(sys.tiers, { config: testConfig({ ADMIN_TOKENS: 'next-admin-token-0123456789, other-admin-token-0123456789' }) }))
    for (const token of [ADMIN_TOKEN, 'next-admin-token-0123456789', 'other-admin-token-0123456789']) {
      expect((await rotated.request('/v1/admin/queues', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    }
    expect((await rotated.request('/v1/admin/queues', { headers: { authorization: 'Bearer next-admin-token-012345678' } })).status).toBe(401)
    expect((await sys.app.request('/v1/admin/queues', { headers: { authorization: 'Bearer next-admin-token-0123456789' } })).status).toBe(401)
    for (const route of ADMIN_ROUTES) {
      const method = route.split(' ')[0]!.toUpperCase()
      const path = route.split(' ')[1]!.replace('{id}', a.id)
      const r = await call(sys, method, path, { token: a.key, body: method === 'GET' ? undefined : {} })
      expect({ route, status: r.status }).toEqual({ route, status: 401 })
      const admin = await call(sys, method, path, { token: ADMIN_TOKEN, body: method === 'GET' ? undefined : {} })
      expect({ route, refused: [401, 403].includes(admin.status) }).toEqual({ route, refused: false })
    }
  })
})

describe('API keys', () => {
  test('a key is shown once and listed by prefix with its scopes', async () => {
    const made = await newKey(a, ['analytics:read', 'messages:read'])
    expect(made.key).toStartWith('edp_')
    // Every key the file made fits one page, whichever tests ran before (the matrix makes one per route).
    const listed = await call(sys, 'GET', '/v1/api-keys?limit=200', { token: a.key })
    expect(listed.body.next_cursor).toBeNull()
    const row = listed.body.data.find((k: any) => k.id === made.id)
    expect(row).toMatchObject({ prefix: made.key.slice(0, 12), scopes: ['analytics:read', 'messages:read'], revoked: null })
    expect(JSON.stringify(listed.body)).not.toContain(made.key)
    // The tenant's first key holds every scope.
    const first = listed.body.data.at(-1)
    expect([...first.scopes].sort()).toEqual([...SCOPES].sort())
  })

  test('last use is written in batches: at most one write per interval, none lost', async () => {
    const clock = new TestClock()
    const deps = makeDeps(sys.tiers, { clock })
    const [k1, k2, k3] = [await newKey(a, ['admin']), await newKey(a, ['admin']), await newKey(a, ['admin'])]
    const usage = new KeyUsage(deps, 30_000)
    const lastUsed = async () => {
      const rows = (await call(sys, 'GET', '/v1/api-keys?limit=200', { token: a.key })).body.data
      return Object.fromEntries([k1, k2, k3].map((k) => [k.id, rows.find((r: any) => r.id === k.id).last_used_at]))
    }
    await usage.note(k1.id)
    const first = await lastUsed()
    expect(first[k1.id]).not.toBeNull()
    expect([first[k2.id], first[k3.id]]).toEqual([null, null])
    clock.advance(10_000)
    // Within the interval a use is only noted: no write.
    expect(usage.note(k2.id)).toBeUndefined()
    expect((await lastUsed())[k2.id]).toBeNull()
    clock.advance(25_000)
    await usage.note(k3.id)
    const later = await lastUsed()
    expect(later[k1.id]).toBe(first[k1.id])
    expect(Date.parse(later[k2.id]) - Date.parse(first[k1.id])).toBeGreaterThanOrEqual(10_000)
    expect(Date.parse(later[k3.id]) - Date.parse(later[k2.id])).toBeGreaterThanOrEqual(25_000)
  })

  test('bad key requests are 422 naming the field and create nothing', async () => {
    const before = (await call(sys, 'GET', '/v1/api-keys?limit=200', { token: a.key })).body.data.length
    for (const [body, field] of [
      [{ name: 'x', scopes: ['root'] }, 'scopes.0'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: '', scopes: ['admin'] }, 'name'],
      [{ name: 'x', scopes: ['admin'], expires_at: '2000-01-01T00:00:00Z' }, 'expires_at'],
    ] as const) {
      const r = await call(sys, 'POST', '/v1/api-keys', { token: a.key, body })
      expect({ field, status: r.status, named: r.body.errors?.[0]?.field }).toEqual({ field, status: 422, named: field })
    }
    expect((await call(sys, 'GET', '/v1/api-keys?limit=200', { token: a.key })).body.data.length).toBe(before)
  })
})
