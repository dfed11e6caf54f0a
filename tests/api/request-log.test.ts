/**
 * The access log: one `request` line per request, whatever answers it (a route, auth, a 404 for
 * no route, a validation error), naming the method, the route pattern (never the path), the
 * status, the duration, the request id and the tenant.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { createApp } from '../../src/http/app.ts'
import { call, createTenant, type TenantFixture } from '../support/api.ts'
import { captureLogs, type CapturedLogs } from '../support/logs.ts'
import { ADMIN_TOKEN, makeDeps, useSystem, type TestSystem } from '../support/system.ts'

const sys = useSystem()
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
let tenant: TenantFixture

beforeAll(async () => {
  tenant = await createTenant(sys)
})

/** One request through an app whose logs are captured at `info` (the production default). */
async function logged(method: string, path: string, o: Parameters<typeof call>[3] = {}) {
  const logs: CapturedLogs = captureLogs('info')
  const traced: TestSystem = { ...sys, app: createApp(makeDeps(sys.tiers, { log: logs.log })) }
  const reply = await call(traced, method, path, o)
  const lines = logs.lines.filter((l) => l.msg === 'request')
  return { reply, lines, line: lines[0]!, all: logs.lines, text: logs.text() }
}

describe('one access line per request', () => {
  test('a tenant request: method, route, status, duration, request id and tenant, at info', async () => {
    const r = await logged('POST', '/v1/leads', { token: tenant.key, body: { email: 'ada@example.com' } })
    expect(r.reply.status).toBe(201)
    expect(r.lines).toHaveLength(1)
    expect(r.line).toMatchObject({ level: 30, method: 'POST', route: '/v1/leads', status: 201, tenant_id: tenant.id })
    expect(r.line.request_id).toMatch(UUID)
    expect(r.line.request_id).toBe(r.reply.headers.get('x-request-id')!)
    expect(typeof r.line.duration_ms).toBe('number')
    expect(r.line.duration_ms as number).toBeGreaterThanOrEqual(0)
  })

  test('a route with a parameter is logged by its pattern, not its path', async () => {
    const id = '0190c7a1-1111-7111-8111-111111111111'
    const r = await logged('GET', `/v1/messages/${id}`, { token: tenant.key })
    expect(r.reply.status).toBe(404)
    expect(r.lines).toHaveLength(1)
    expect(r.line).toMatchObject({ method: 'GET', route: '/v1/messages/:id', status: 404, tenant_id: tenant.id })
    expect(r.text).not.toContain(id)
  })

  test('a 404 for no route has one line, with no route and not the path (it can hold an address)', async () => {
    const r = await logged('GET', '/v1/nothing-here/someone@example.com')
    expect(r.reply.status).toBe(404)
    expect(r.lines).toHaveLength(1)
    expect(r.line).toMatchObject({ level: 30, method: 'GET', route: null, status: 404 })
    expect(r.line).not.toHaveProperty('tenant_id')
    expect(r.text).not.toContain('someone@example.com')
  })

  test('a request refused by auth has one line and no tenant', async () => {
    const r = await logged('GET', '/v1/leads', { token: 'not-a-key' })
    expect(r.reply.status).toBe(401)
    expect(r.lines).toHaveLength(1)
    expect(r.line).toMatchObject({ level: 30, method: 'GET', route: '/v1/leads', status: 401 })
    expect(r.line).not.toHaveProperty('tenant_id')
  })

  test('a validation error and an operator request each have one line', async () => {
    const bad = await logged('POST', '/v1/leads', { token: tenant.key, body: { email: 42 } })
    expect(bad.reply.status).toBe(422)
    expect(bad.lines.map((l) => [l.status, l.route, l.tenant_id])).toEqual([[422, '/v1/leads', tenant.id]])
    const admin = await logged('POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'logged' } })
    expect(admin.reply.status).toBe(201)
    expect(admin.lines.map((l) => [l.status, l.route])).toEqual([[201, '/v1/tenants']])
  })

  test('every line written during a request names it, and nothing else is logged at info for a plain request', async () => {
    const r = await logged('GET', '/health', { headers: { 'x-request-id': 'probe-7' } })
    expect(r.reply.status).toBe(200)
    expect(r.all).toHaveLength(1)
    expect(r.line).toMatchObject({ route: '/health', status: 200, client_request_id: 'probe-7' })
  })
})
