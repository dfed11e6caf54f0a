/**
 * Invariant 8: every state change and admin action has an audit record; a crash never leaves a
 * change without one. Every non-GET operation of the OpenAPI document is driven from one table
 * (a route added without an entry fails here) and must leave exactly its rows under its request
 * id; an injected fault after an OLTP change leaves neither change nor row; a crash between the
 * intent and a change in another tier leaves the intent; the rows cannot be changed or deleted;
 * the listings are the tenant's own, paginated, filtered and validated.
 */
import { describe, expect, test } from 'bun:test'
import { ROUTE_ACTIONS } from '../../src/http/audit-trail.ts'
import { createMessage } from '../../src/services/messages.ts'
import { bracketed } from '../../src/services/audit.ts'
import { requeueDeadLetters } from '../../src/services/operations.ts'
import { DEFAULT_POLICY } from '../../src/tiers/content/retention.ts'
import { allowAuditMaintenance, NO_TENANT } from '../../src/tiers/oltp/audit-log.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { engine } from '../support/databases.ts'
import { faultyDb } from '../support/faults.ts'
import { ADMIN_TOKEN, makeDeps, useSystem } from '../support/system.ts'

const sys = useSystem()

interface AuditRow {
  tenant_id: string | null
  actor: string
  action: string
  target_type: string | null
  target_id: string | null
  outcome: string
}

const rowsOf = (requestId: string) =>
  sys.tiers.oltp.query<AuditRow>(
    `SELECT tenant_id, actor, action, target_type, target_id, outcome FROM oltp.audit_log WHERE request_id = $1 ORDER BY id`,
    [requestId],
  )

/** One state-changing call: what it sends, and the action and target its row must name. */
interface Case {
  op: string
  send: () => Promise<{ status: number; headers: Headers; body: any }>
  action: string
  /** The target of its row, or of each of its rows (a batch writes one per message). */
  target: (reply: any) => string | null | string[]
  /** The key's tenant, or admin. */
  actor: 'key' | 'admin'
  /** A change outside OLTP: an intent row, then the outcome. */
  bracketed?: boolean
}

async function world() {
  const t = await createTenant(sys, `audit-${crypto.randomUUID().slice(0, 8)}`)
  const keyId = (await call(sys, 'GET', '/v1/api-keys', { token: t.key })).body.data[0].id as string
  const mailbox = `inbox-${crypto.randomUUID().slice(0, 8)}@audit.test`
  await call(sys, 'POST', '/v1/email-accounts', { token: t.key, body: { email_address: mailbox } })
  return { t, keyId, mailbox }
}

function cases(t: TenantFixture, mailbox: string): Case[] {
  const k = { token: t.key }
  const admin = { token: ADMIN_TOKEN }
  const state: Record<string, string> = {}
  const keep = (name: string) => (r: any) => (state[name] = r.id ?? r.tenant?.id)
  const c = (op: string, action: string, send: Case['send'], target: Case['target'], extra: Partial<Case> = {}): Case => ({
    op,
    action,
    send,
    target,
    actor: 'key',
    ...extra,
  })
  return [
    c('POST /v1/tenants', 'tenant.create', () => call(sys, 'POST', '/v1/tenants', { ...admin, body: { name: 'other' } }), keep('tenant'), { actor: 'admin' }),
    c('PATCH /v1/tenants/:id', 'tenant.suspend', () => call(sys, 'PATCH', `/v1/tenants/${state.tenant}`, { ...admin, body: { status: 'suspended' } }), () => state.tenant!, {
      actor: 'admin',
    }),
    c('DELETE /v1/tenants/:id', 'tenant.delete', () => call(sys, 'DELETE', `/v1/tenants/${state.tenant}`, admin), (r) => r.id, { actor: 'admin' }),
    c('POST /v1/api-keys', 'api_key.create', () => call(sys, 'POST', '/v1/api-keys', { ...k, body: { name: 'ci', scopes: ['admin'] } }), keep('key')),
    c('DELETE /v1/api-keys/:id', 'api_key.revoke', () => call(sys, 'DELETE', `/v1/api-keys/${state.key}`, k), () => state.key!),
    c('POST /v1/email-accounts', 'email_account.create', () => call(sys, 'POST', '/v1/email-accounts', { ...k, body: { email_address: 'x@audit.test' } }), keep('account')),
    c('PATCH /v1/email-accounts/:id', 'email_account.update', () => call(sys, 'PATCH', `/v1/email-accounts/${state.account}`, { ...k, body: { status: 'paused' } }), () => state.account!),
    c('DELETE /v1/email-accounts/:id', 'email_account.delete', () => call(sys, 'DELETE', `/v1/email-accounts/${state.account}`, k), () => state.account!),
    c('POST /v1/campaigns', 'campaign.create', () => call(sys, 'POST', '/v1/campaigns', { ...k, body: { name: 'c' } }), keep('campaign')),
    c('PATCH /v1/campaigns/:id', 'campaign.update', () => call(sys, 'PATCH', `/v1/campaigns/${state.campaign}`, { ...k, body: { name: 'd' } }), () => state.campaign!),
    c('POST /v1/campaigns/:id/steps', 'sequence_step.create', () => call(sys, 'POST', `/v1/campaigns/${state.campaign}/steps`, { ...k, body: { step_number: 1 } }), keep('step')),
    c('PATCH /v1/campaigns/:id/steps/:step_id', 'sequence_step.update', () => call(sys, 'PATCH', `/v1/campaigns/${state.campaign}/steps/${state.step}`, { ...k, body: { delay_days: 2 } }), () => state.step!),
    c('DELETE /v1/campaigns/:id/steps/:step_id', 'sequence_step.delete', () => call(sys, 'DELETE', `/v1/campaigns/${state.campaign}/steps/${state.step}`, k), () => state.step!),
    c('DELETE /v1/campaigns/:id', 'campaign.delete', () => call(sys, 'DELETE', `/v1/campaigns/${state.campaign}`, k), () => state.campaign!),
    c('POST /v1/leads', 'lead.create', () => call(sys, 'POST', '/v1/leads', { ...k, body: { email: 'l@example.com' } }), keep('lead')),
    c('PATCH /v1/leads/:id', 'lead.update', () => call(sys, 'PATCH', `/v1/leads/${state.lead}`, { ...k, body: { first_name: 'L' } }), () => state.lead!),
    c('DELETE /v1/leads/:id', 'lead.delete', () => call(sys, 'DELETE', `/v1/leads/${state.lead}`, k), () => state.lead!),
    c('POST /v1/leads/import', 'lead.import', () => call(sys, 'POST', '/v1/leads/import', { ...k, rawBody: 'email\nm@example.com\n', headers: { 'content-type': 'text/csv' } }), () => null),
    c('POST /v1/suppressions', 'suppression.create', () => call(sys, 'POST', '/v1/suppressions', { ...k, body: { email: 's@example.com' } }), (r) => r.id),
    c('DELETE /v1/suppressions/:email', 'suppression.delete', () => call(sys, 'DELETE', '/v1/suppressions/s@example.com', k), () => 's@example.com'),
    c('POST /v1/messages', 'message.create', () => call(sys, 'POST', '/v1/messages', { ...k, body: messageBody(t.accountId) }), keep('message')),
    c(
      'POST /v1/messages/batch',
      'message.create',
      () => call(sys, 'POST', '/v1/messages/batch', { ...k, body: { messages: [messageBody(t.accountId), messageBody(t.accountId)] } }),
      (r) => r.results.map((x: any) => x.id),
    ),
    c(
      'POST /v1/inbound',
      'message.create',
      () =>
        call(sys, 'POST', '/v1/inbound', {
          ...k,
          rawBody: `From: p@example.com\nTo: ${mailbox}\nMessage-ID: <${crypto.randomUUID()}@example.com>\nSubject: hi\n\nhello\n`,
          headers: { 'content-type': 'message/rfc822' },
        }),
      (r) => r.id,
    ),
    c(
      'POST /v1/events',
      'event.create',
      () =>
        call(sys, 'POST', '/v1/events', {
          ...k,
          body: { events: [{ event_id: crypto.randomUUID(), message_id: state.message, type: 'opened', occurred_at: new Date().toISOString() }] },
        }),
      () => null,
      { bracketed: true },
    ),
    c('PUT /v1/retention-policy', 'retention_policy.update', () => call(sys, 'PUT', '/v1/retention-policy', { ...k, body: DEFAULT_POLICY }), () => t.id, { bracketed: true }),
    c(
      'POST /v1/transactional-emails',
      'transactional_email.create',
      () => call(sys, 'POST', '/v1/transactional-emails', { ...k, body: { to_email: 'a@example.com', from_email: 'b@example.com', subject: 's' } }),
      (r) => r.id,
      { bracketed: true },
    ),
    c('POST /v1/notifications', 'notification.create', () => call(sys, 'POST', '/v1/notifications', { ...k, body: { title: 'n' } }), keep('notification'), { bracketed: true }),
    c('PATCH /v1/notifications/:id', 'notification.update', () => call(sys, 'PATCH', `/v1/notifications/${state.notification}`, { ...k, body: { read: true } }), () => state.notification!, {
      bracketed: true,
    }),
    c('PUT /v1/webhook-settings', 'webhook_settings.update', () => call(sys, 'PUT', '/v1/webhook-settings', { ...k, body: { provider: 'mailgun', signing_key: 'k'.repeat(32) } }), () => 'mailgun'),
    c('POST /v1/erasure-requests', 'erasure.request', () => call(sys, 'POST', '/v1/erasure-requests', { ...k, body: { email: 'gone@example.com' } }), (r) => r.id),
  ]
}

/** Operations recorded elsewhere: provider deliveries carry no key and are verified by signature (tests/webhooks). */
const NOT_DRIVEN = new Set(['POST /v1/webhooks/:provider'])

describe('every state-changing request is recorded', () => {
  test('each non-GET operation of the API writes exactly its rows: action, actor, target, request id, outcome', async () => {
    const { t, keyId, mailbox } = await world()
    const table = cases(t, mailbox)
    const doc = (await call(sys, 'GET', '/openapi.json')).body
    const operations = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
      Object.keys(ops)
        .filter((m) => !['get', 'head', 'parameters'].includes(m))
        .map((m) => `${m.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    )
    for (const op of operations) {
      if (NOT_DRIVEN.has(op)) continue
      expect({ op, inTable: op in ROUTE_ACTIONS, driven: table.some((c) => c.op === op) }).toEqual({ op, inTable: true, driven: true })
    }
    for (const c of table) {
      const r = await c.send()
      expect({ op: c.op, status: r.status }).toEqual({ op: c.op, status: r.status < 300 ? r.status : 200 })
      const rows = await rowsOf(r.headers.get('x-request-id')!)
      const actor = c.actor === 'admin' ? 'admin' : `api_key:${keyId}`
      const targets = c.target(r.body)
      const expected = (Array.isArray(targets) ? targets : [targets]).flatMap((target_id) => {
        const row = { actor, action: c.action, target_id }
        return c.bracketed ? [{ ...row, outcome: 'started' }, { ...row, outcome: 'succeeded' }] : [{ ...row, outcome: 'succeeded' }]
      })
      expect({ op: c.op, rows: rows.map(({ actor, action, target_id, outcome }) => ({ actor, action, target_id, outcome })) }).toEqual({ op: c.op, rows: expected })
      if (c.actor === 'key') expect(rows.every((x) => x.tenant_id === t.id)).toBe(true)
    }
  })

  test('messages written together by the group commit each name their own request, key and tenant', async () => {
    const a = await world()
    const b = await world()
    const sends = Array.from({ length: 12 }, (_, i) => {
      const w = i % 2 ? a : b
      return call(sys, 'POST', '/v1/messages', { token: w.t.key, body: messageBody(w.t.accountId) }).then((r) => ({ r, w }))
    })
    for (const { r, w } of await Promise.all(sends)) {
      expect(r.status).toBe(201)
      const rows = await rowsOf(r.headers.get('x-request-id')!)
      expect(rows.map((x) => [x.tenant_id, x.actor, x.action, x.target_id])).toEqual([[w.t.id, `api_key:${w.keyId}`, 'message.create', r.body.id]])
    }
  })

  test('a refused request is recorded once, rejected, with its status; a GET and an unauthenticated request are not', async () => {
    const { t } = await world()
    const bad = await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: '' } })
    expect(bad.status).toBe(422)
    const rows = await sys.tiers.oltp.query<AuditRow & { detail: any }>(`SELECT *, detail FROM oltp.audit_log WHERE request_id = $1`, [bad.headers.get('x-request-id')])
    expect(rows.map((r) => [r.action, r.outcome, r.detail])).toEqual([['campaign.create', 'rejected', { status: 422, code: 'validation_failed' }]])
    const missing = await call(sys, 'DELETE', `/v1/leads/01900000-0000-7000-8000-000000000000`, { token: t.key })
    expect(missing.status).toBe(404)
    expect((await rowsOf(missing.headers.get('x-request-id')!)).map((r) => [r.action, r.outcome, r.target_id])).toEqual([
      ['lead.delete', 'rejected', '01900000-0000-7000-8000-000000000000'],
    ])
    for (const r of [await call(sys, 'GET', '/v1/campaigns', { token: t.key }), await call(sys, 'POST', '/v1/campaigns', { token: 'nope', body: { name: 'x' } })]) {
      expect(await rowsOf(r.headers.get('x-request-id')!)).toEqual([])
    }
  })
})

describe('operator actions outside HTTP', () => {
  test('the dead-letters CLI’s requeue is recorded as the admin’s, an intent and then its outcome', async () => {
    const before = await sys.tiers.oltp.query<{ n: number }>(`SELECT count(*)::int AS n FROM oltp.audit_log WHERE action = 'dead_letter.requeue'`)
    expect(await requeueDeadLetters(sys.deps, ['987654321'])).toEqual([])
    const rows = await sys.tiers.oltp.query<AuditRow & { detail: any }>(
      `SELECT actor, outcome, tenant_id, detail FROM oltp.audit_log WHERE action = 'dead_letter.requeue' ORDER BY id OFFSET $1`,
      [before[0]!.n],
    )
    expect(rows.map((r) => [r.actor, r.outcome, r.tenant_id, r.detail.requeued ?? null])).toEqual([
      ['admin', 'started', NO_TENANT, null],
      ['admin', 'succeeded', NO_TENANT, 0],
    ])
  })
})

describe('a crash never leaves a change without its record', () => {
  test('a fault inside the OLTP transaction after the change leaves neither the change nor its row', async () => {
    const { t } = await world()
    // The audit insert fails: the campaign inserted just before it in the same transaction must go too.
    const deps = makeDeps(
      { ...sys.tiers, oltp: faultyDb(sys.tiers.oltp, (q) => q.includes('INSERT INTO oltp.audit_log')) },
      { config: sys.deps.config },
    )
    await expect(createMessage(deps, t.id, { ...messageBody(t.accountId), direction: 'outbound', message_type: 'email' } as any)).rejects.toThrow('injected fault')
    const [refs] = await sys.tiers.oltp.query<{ n: number }>(`SELECT count(*)::int AS n FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
    const [rows] = await sys.tiers.oltp.query<{ n: number }>(`SELECT count(*)::int AS n FROM oltp.audit_log WHERE tenant_id = $1 AND action = 'message.create'`, [t.id])
    expect({ refs: refs!.n, rows: rows!.n }).toEqual({ refs: 0, rows: 0 })
  })

  test('a crash between the intent and a change in another tier leaves the intent row, and the change never happens unrecorded', async () => {
    const { t } = await world()
    let changed = false
    const crash = bracketed(
      sys.deps,
      { tenantId: t.id, action: 'retention_policy.update', targetType: 'retention_policy', targetId: t.id },
      async () => {
        changed = true
      },
      {
        afterIntent: () => {
          throw new Error('killed')
        },
      },
    )
    await expect(crash).rejects.toThrow('killed')
    expect(changed).toBe(false)
    const rows = await sys.tiers.oltp.query<AuditRow>(`SELECT outcome FROM oltp.audit_log WHERE tenant_id = $1 AND action = 'retention_policy.update'`, [t.id])
    expect(rows.map((r) => r.outcome)).toEqual(['started'])
  })

  test('a change in another tier that fails is recorded as failed after its intent', async () => {
    const { t } = await world()
    await expect(
      bracketed(sys.deps, { tenantId: t.id, action: 'notification.create', targetType: 'notification', targetId: null }, () => Promise.reject(new Error('content down'))),
    ).rejects.toThrow('content down')
    const rows = await sys.tiers.oltp.query<AuditRow>(`SELECT outcome FROM oltp.audit_log WHERE tenant_id = $1 AND action = 'notification.create' ORDER BY id`, [t.id])
    expect(rows.map((r) => r.outcome)).toEqual(['started', 'failed'])
  })
})

describe('append-only', () => {
  test('the application’s connection cannot update or delete an audit row; the row stays as written', async () => {
    const { t } = await world()
    const [row] = await sys.tiers.oltp.query<{ id: string; action: string }>(
      `SELECT id::text AS id, action FROM oltp.audit_log WHERE tenant_id = $1 ORDER BY id LIMIT 1`,
      [t.id],
    )
    await expect(sys.tiers.oltp.query(`UPDATE oltp.audit_log SET action = 'forged' WHERE id = $1`, [row!.id])).rejects.toThrow(/append-only/)
    await expect(sys.tiers.oltp.query(`DELETE FROM oltp.audit_log WHERE id = $1`, [row!.id])).rejects.toThrow(/append-only/)
    // Inside a transaction too, and the setting of another transaction does not carry over.
    await sys.tiers.oltp.transaction(async (tx) => {
      await tx.query(`SELECT set_config('edp.audit_maintenance', 'on', true)`)
    })
    await expect(sys.tiers.oltp.transaction((tx) => tx.query(`DELETE FROM oltp.audit_log WHERE id = $1`, [row!.id]))).rejects.toThrow(/append-only/)
    const [after] = await sys.tiers.oltp.query<{ action: string }>(`SELECT action FROM oltp.audit_log WHERE id = $1`, [row!.id])
    expect(after?.action).toBe(row!.action)
  })
})

describe.if(engine === 'postgres')('server mode: the grants in the README', () => {
  test('a role with INSERT and SELECT on audit_log writes and reads entries but is refused UPDATE, DELETE and TRUNCATE, even as maintenance', async () => {
    const role = `edp_audit_api_${process.pid}_${Math.random().toString(36).slice(2, 7)}`
    const db = sys.tiers.oltp
    // LOGIN: on Citus the coordinator reaches the shards as this role. Dropped at the end.
    await db.exec(`CREATE ROLE ${role} LOGIN; GRANT USAGE ON SCHEMA oltp TO ${role}; GRANT SELECT, INSERT ON oltp.audit_log TO ${role}`)
    try {
      const asApi = <T>(fn: (tx: import('../../src/db/types.ts').Queryable) => Promise<T>) =>
        db.transaction(async (tx) => {
          await tx.exec(`SET LOCAL ROLE ${role}`)
          return fn(tx)
        })
      const [written] = await asApi((tx) =>
        tx.query<{ id: string }>(`INSERT INTO oltp.audit_log (tenant_id, actor, action) VALUES ('${NO_TENANT}', 'api_key:x', 'grant.check') RETURNING id::text AS id`),
      )
      for (const statement of [
        `UPDATE oltp.audit_log SET action = 'forged' WHERE id = ${written!.id}`,
        `DELETE FROM oltp.audit_log WHERE id = ${written!.id}`,
        `TRUNCATE oltp.audit_log`,
      ]) {
        await expect(
          asApi(async (tx) => {
            await allowAuditMaintenance(tx)
            return tx.query(statement)
          }),
        ).rejects.toThrow(/permission denied/)
      }
      const [kept] = await db.query<{ action: string }>(`SELECT action FROM oltp.audit_log WHERE id = $1`, [written!.id])
      expect(kept?.action).toBe('grant.check')
    } finally {
      await db.exec(`DROP OWNED BY ${role}; DROP ROLE ${role}`)
    }
  })
})

describe('GET /v1/audit-log and /v1/admin/audit-log', () => {
  test('a tenant sees only its own entries, newest first, page by page; filters narrow it', async () => {
    const a = await world()
    const b = await world()
    for (let i = 0; i < 5; i++) await call(sys, 'POST', '/v1/campaigns', { token: a.t.key, body: { name: `a${i}` } })
    await call(sys, 'POST', '/v1/campaigns', { token: b.t.key, body: { name: 'b' } })
    const seen: any[] = []
    let cursor: string | null = null
    do {
      const page: any = await call(sys, 'GET', `/v1/audit-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: a.t.key })
      expect(page.status).toBe(200)
      seen.push(...page.body.data)
      cursor = page.body.next_cursor
    } while (cursor)
    expect(seen.every((e) => e.tenant_id === a.t.id)).toBe(true)
    expect(seen.map((e) => Number(e.id))).toEqual(seen.map((e) => Number(e.id)).sort((x, y) => y - x))
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length)
    expect(seen.filter((e) => e.action === 'campaign.create')).toHaveLength(5)
    const filtered = await call(sys, 'GET', '/v1/audit-log?action=campaign.create&limit=200', { token: a.t.key })
    expect(filtered.body.data.map((e: any) => e.action)).toEqual(Array(5).fill('campaign.create'))
    const future = await call(sys, 'GET', `/v1/audit-log?from=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`, { token: a.t.key })
    expect(future.body.data).toEqual([])
  })

  test('newest first by number, not by text: id 10 comes before id 9', async () => {
    const a = await world()
    // Ids far above any the suite reaches, straddling a digit: 10^15 - 1 and 10^15.
    const [nine, ten] = ['999999999999999', '1000000000000000']
    for (const id of [nine, ten]) {
      await sys.tiers.oltp.query(
        `INSERT INTO oltp.audit_log (id, tenant_id, actor, action) OVERRIDING SYSTEM VALUE VALUES ($1::bigint, $2, 'test', 'order.check')`,
        [id, a.t.id],
      )
    }
    const page = await call(sys, 'GET', '/v1/audit-log?action=order.check', { token: a.t.key })
    expect(page.body.data.map((e: any) => e.id)).toEqual([ten, nine])
    const admin = await call(sys, 'GET', `/v1/admin/audit-log?tenant_id=${a.t.id}&action=order.check&limit=1`, { token: ADMIN_TOKEN })
    expect(admin.body.data.map((e: any) => e.id)).toEqual([ten])
  })

  test('the operator lists across tenants or one tenant; bad input is a 422 naming the field', async () => {
    const a = await world()
    const b = await world()
    const all = await call(sys, 'GET', '/v1/admin/audit-log?action=tenant.create&limit=200', { token: ADMIN_TOKEN })
    const tenants = new Set(all.body.data.map((e: any) => e.tenant_id))
    expect(tenants.has(a.t.id) && tenants.has(b.t.id)).toBe(true)
    const one = await call(sys, 'GET', `/v1/admin/audit-log?tenant_id=${b.t.id}&limit=200`, { token: ADMIN_TOKEN })
    expect(one.body.data.length).toBeGreaterThan(0)
    expect(one.body.data.every((e: any) => e.tenant_id === b.t.id)).toBe(true)
    expect((await call(sys, 'GET', '/v1/admin/audit-log', { token: a.t.key })).status).toBe(401)
    for (const [query, field] of [
      ['cursor=bm9wZQ', 'cursor'],
      ['from=yesterday', 'from'],
      ['limit=0', 'limit'],
      [`from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z`, 'from'],
    ] as const) {
      const r = await call(sys, 'GET', `/v1/audit-log?${query}`, { token: a.t.key })
      expect({ query, status: r.status, fields: r.body.errors?.map((e: any) => e.field) }).toEqual({ query, status: 422, fields: [field] })
    }
  })
})
