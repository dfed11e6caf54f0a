/**
 * Idempotency-Key: a retry of a POST answers the first success again and writes nothing, copies
 * sent at once store one thing, a key is refused for another request, and no failure pins a key
 * (a 4xx or 5xx frees it; a claim whose process died lapses). Counts are read from the tiers, not
 * from the answers. Faults are injected into the tiers the app runs on.
 */
import { describe, expect, test } from 'bun:test'
import type { Config } from '../../src/config.ts'
import { tiersFrom, type Tiers } from '../../src/db/tiers.ts'
import type { Db, Queryable } from '../../src/db/types.ts'
import { createApp } from '../../src/http/app.ts'
import { CLAIM_LEASE_MS, IDEMPOTENCY_WINDOW_MS, IdempotencyKeys, MAX_KEPT_ANSWER_BYTES } from '../../src/services/idempotency.ts'
import { call, createTenant, messageBody, type Reply, type TenantFixture } from '../support/api.ts'
import { TestClock } from '../support/clock.ts'
import { faultyDb } from '../support/faults.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem, type TestSystem } from '../support/system.ts'

// Copies wait for the first answer far longer than any write here takes, so every copy replays.
const config = testConfig({ IDEMPOTENCY_WAIT_S: '60' })
const sys = useSystem(config)

/** An app over other tiers, settings or clock, on the same databases. */
function appOver({ tiers = sys.tiers, overrides = {}, clock }: { tiers?: Tiers; overrides?: Partial<Record<keyof Config, string>>; clock?: TestClock }): TestSystem {
  const deps = makeDeps(tiers, { config: testConfig({ IDEMPOTENCY_WAIT_S: '60', ...overrides }), clock })
  return { tiers, deps, app: createApp(deps) }
}

/** The tiers with OLTP replaced (and the queue too when they are one database, so the write path still sees them as one). */
const withOltp = (oltp: Db): Tiers => tiersFrom({ ...sys.tiers, oltp, queue: sys.tiers.queue === sys.tiers.oltp ? oltp : sys.tiers.queue })

/** A Db whose statements matching `when` wait until `open()`; `arrived` resolves when the first one is held. */
function heldDb(db: Db, when: (sql: string) => boolean) {
  let open!: () => void
  let arrive!: () => void
  const gate = new Promise<void>((r) => (open = r))
  const arrived = new Promise<void>((r) => (arrive = r))
  const hold = (q: Queryable): Queryable => ({
    query: async (text, params) => {
      if (when(text)) {
        arrive()
        await gate
      }
      return q.query(text, params)
    },
    exec: (text) => q.exec(text),
  })
  return { db: { ...db, ...hold(db), transaction: (fn) => db.transaction((tx) => fn(hold(tx))), close: async () => {} } as Db, arrived, open }
}

const count = async (db: Queryable, sql: string, params: unknown[]) => Number((await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${sql}`, params))[0]!.n)
const refs = (t: TenantFixture) => count(sys.tiers.oltp, `oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
const bodies = (t: TenantFixture) => count(sys.tiers.content, `content.content_objects WHERE tenant_id = $1`, [t.id])

const post = (s: TestSystem, t: TenantFixture, key: string | undefined, body: unknown, path = '/v1/messages') =>
  call(s, 'POST', path, { token: t.key, body, headers: key === undefined ? {} : { 'idempotency-key': key } })

const replayed = (r: Reply) => r.headers.get('idempotent-replayed')
const text = (r: Reply) => new TextDecoder().decode(r.raw)
const problemField = (r: Reply) => r.body.errors?.map((e: { field: string }) => e.field)

describe('a retried POST with the same Idempotency-Key', () => {
  test('answers the first success again, byte for byte, with Idempotent-Replayed: true, and writes nothing', async () => {
    const t = await createTenant(sys)
    const body = messageBody(t.accountId, { attachments: [{ filename: 'a.txt', mime_type: 'text/plain', content_base64: 'aGVsbG8=' }] })
    const first = await post(sys, t, 'order-1001', body)
    expect(first.status).toBe(201)
    expect(replayed(first)).toBeNull()
    const again = await post(sys, t, 'order-1001', body)
    expect(again.status).toBe(201)
    expect(replayed(again)).toBe('true')
    expect(text(again)).toBe(text(first))
    expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'))
    expect(await refs(t)).toBe(1)
    expect(await bodies(t)).toBe(1)
    expect(await count(sys.tiers.content, `content.attachments WHERE tenant_id = $1`, [t.id])).toBe(1)
    // Without a key, the same body is a second message.
    expect((await post(sys, t, undefined, body)).status).toBe(201)
    expect(await refs(t)).toBe(2)
  })

  test('ten identical POST /v1/messages at once with one key store one message and all answer its 201', async () => {
    const t = await createTenant(sys)
    const body = messageBody(t.accountId, { subject: 'Sent ten times at once', content_text: 'only once, please' })
    const answers = await Promise.all(Array.from({ length: 10 }, () => post(sys, t, 'burst-7', body)))
    expect(answers.map((a) => a.status)).toEqual(Array(10).fill(201))
    expect(new Set(answers.map(text)).size).toBe(1)
    expect(answers.filter((a) => replayed(a) === 'true')).toHaveLength(9)
    expect(await refs(t)).toBe(1)
    expect(await bodies(t)).toBe(1)
    const [ref] = await sys.tiers.oltp.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [t.id])
    expect(ref!.id).toBe(answers[0]!.body.id)
    const content = await call(sys, 'GET', `/v1/messages/${ref!.id}/content`, { token: t.key })
    expect(content.body.content_text).toBe('only once, please')
  })

  test('a copy sent while the first runs waits and replays its answer; with no wait allowed it answers 409 with Retry-After', async () => {
    const t = await createTenant(sys)
    const held = heldDb(sys.tiers.oltp, (s) => s.includes('FROM oltp.email_accounts WHERE tenant_id = $1 AND id = $2'))
    const slow = appOver({ tiers: withOltp(held.db) })
    const impatient = appOver({ overrides: { IDEMPOTENCY_WAIT_S: '0' } })
    const patient = appOver({})
    const body = messageBody(t.accountId)
    const first = post(slow, t, 'held-1', body)
    await held.arrived

    const busy = await post(impatient, t, 'held-1', body)
    expect(busy.status).toBe(409)
    expect(busy.headers.get('retry-after')).toBe('1')
    expect(problemField(busy)).toEqual(['Idempotency-Key'])

    const waiting = post(patient, t, 'held-1', body)
    held.open()
    const [a, b] = await Promise.all([first, waiting])
    expect([a.status, b.status]).toEqual([201, 201])
    expect(replayed(b)).toBe('true')
    expect(text(b)).toBe(text(a))
    expect(await refs(t)).toBe(1)
  })
})

describe('a key used for another request', () => {
  test('with another body, route or query answers 422 naming Idempotency-Key and writes nothing', async () => {
    const t = await createTenant(sys)
    expect((await post(sys, t, 'reused', messageBody(t.accountId))).status).toBe(201)
    const otherBody = await post(sys, t, 'reused', messageBody(t.accountId, { subject: 'Another subject' }))
    expect(otherBody.status).toBe(422)
    expect(problemField(otherBody)).toEqual(['Idempotency-Key'])
    const otherRoute = await post(sys, t, 'reused', { name: 'A campaign' }, '/v1/campaigns')
    expect(otherRoute.status).toBe(422)
    expect(problemField(otherRoute)).toEqual(['Idempotency-Key'])
    const otherQuery = await post(sys, t, 'reused', messageBody(t.accountId), '/v1/messages?x=1')
    expect(otherQuery.status).toBe(422)
    expect(await refs(t)).toBe(1)
    expect(await count(sys.tiers.oltp, `oltp.campaigns WHERE tenant_id = $1`, [t.id])).toBe(0)
  })

  test('is free again after 24 hours', async () => {
    const t = await createTenant(sys)
    expect((await post(sys, t, 'daily', messageBody(t.accountId))).status).toBe(201)
    const clock = new TestClock()
    clock.advance(IDEMPOTENCY_WINDOW_MS + 60_000)
    const tomorrow = appOver({ clock })
    const again = await post(tomorrow, t, 'daily', messageBody(t.accountId, { subject: 'A new day' }))
    expect(again.status).toBe(201)
    expect(replayed(again)).toBeNull()
    expect(await refs(t)).toBe(2)
  })

  test('keys are per tenant: two tenants sending one key each store their own message', async () => {
    const [a, b] = [await createTenant(sys), await createTenant(sys)]
    const ra = await post(sys, a, 'shared-key', messageBody(a.accountId))
    const rb = await post(sys, b, 'shared-key', messageBody(b.accountId))
    expect([ra.status, rb.status]).toEqual([201, 201])
    expect(replayed(rb)).toBeNull()
    expect(rb.body.tenant_id).toBe(b.id)
    expect([await refs(a), await refs(b)]).toEqual([1, 1])
  })
})

describe('the key itself', () => {
  test('must be 1 to 255 printable ASCII characters, else 422 naming the header before anything is written', async () => {
    const t = await createTenant(sys)
    for (const bad of ['x'.repeat(256), '', 'tab\there', 'é'.repeat(3)]) {
      const r = await post(sys, t, bad, messageBody(t.accountId))
      expect({ bad, status: r.status, field: problemField(r) }).toEqual({ bad, status: 422, field: ['Idempotency-Key'] })
    }
    expect(await refs(t)).toBe(0)
    expect((await post(sys, t, 'k'.repeat(255), messageBody(t.accountId))).status).toBe(201)
    expect((await post(sys, t, ' ~!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}', messageBody(t.accountId))).status).toBe(201)
  })

  test('is taken by every POST the OpenAPI document says takes it (422 for a malformed one), and by no other method', async () => {
    const t = await createTenant(sys)
    const doc = (await call(sys, 'GET', '/openapi.json')).body
    const tested: string[] = []
    for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      const op = item.post
      if (!op?.parameters?.some((p: { $ref?: string }) => p.$ref === '#/components/parameters/IdempotencyKey')) continue
      const url = path.replace(/\{[^}]+\}/g, '019cadd2-0000-7000-8000-000000000000')
      const r = await call(sys, 'POST', url, {
        token: path.startsWith('/v1/tenants') ? ADMIN_TOKEN : t.key,
        rawBody: '{}',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'x'.repeat(256) },
      })
      expect({ path, status: r.status, field: problemField(r) }).toEqual({ path, status: 422, field: ['Idempotency-Key'] })
      tested.push(path)
    }
    expect(tested).toContain('/v1/messages')
    expect(tested).toContain('/v1/tenants')
    // Other methods ignore it: a PATCH with one key and two bodies applies both.
    const patch = (rate: number) =>
      call(sys, 'PATCH', `/v1/tenants/${t.id}`, { token: ADMIN_TOKEN, body: { rate_limit_per_s: rate }, headers: { 'idempotency-key': 'patch-key' } })
    expect((await patch(50)).body.rate_limit_per_s).toBe(50)
    expect((await patch(60)).body.rate_limit_per_s).toBe(60)
  })
})

describe('no failure pins a key', () => {
  test('a first request that fails with a 5xx frees its key: the retry runs and stores one message', async () => {
    const t = await createTenant(sys)
    const broken = appOver({ tiers: withOltp(faultyDb(sys.tiers.oltp, (s) => s.includes('INSERT INTO oltp.inbox_message_refs'))) })
    const body = messageBody(t.accountId)
    const failed = await post(broken, t, 'retry-after-500', body)
    expect(failed.status).toBe(500)
    expect(await refs(t)).toBe(0)
    const retry = await post(sys, t, 'retry-after-500', body)
    expect(retry.status).toBe(201)
    expect(replayed(retry)).toBeNull()
    expect(await refs(t)).toBe(1)
    expect((await post(sys, t, 'retry-after-500', body)).headers.get('idempotent-replayed')).toBe('true')
  })

  test('a 4xx frees its key: nothing was written, so the same key may carry the corrected request', async () => {
    const t = await createTenant(sys)
    const missing = messageBody(t.accountId, { campaign_id: '019cadd2-0000-7000-8000-000000000001' })
    const first = await post(sys, t, 'fix-and-retry', missing)
    expect(first.status).toBe(404)
    const same = await post(sys, t, 'fix-and-retry', missing)
    expect(same.status).toBe(404)
    expect(replayed(same)).toBeNull()
    const fixed = await post(sys, t, 'fix-and-retry', messageBody(t.accountId))
    expect(fixed.status).toBe(201)
    expect(await refs(t)).toBe(1)
  })

  test('a process that dies mid-request (nothing settles its claim) holds the key only until the claim lapses', async () => {
    const t = await createTenant(sys)
    const clock = new TestClock()
    // The write fails and so does freeing the key: as if the process died with the claim taken.
    const dying = faultyDb(sys.tiers.oltp, (s) => s.includes('INSERT INTO oltp.inbox_message_refs') || s.includes('DELETE FROM oltp.idempotency_keys'))
    const body = messageBody(t.accountId)
    expect((await post(appOver({ tiers: withOltp(dying), clock }), t, 'orphaned-claim', body)).status).toBe(500)
    const [row] = await sys.tiers.oltp.query<{ state: string }>(`SELECT state FROM oltp.idempotency_keys WHERE tenant_id = $1`, [t.id])
    expect(row!.state).toBe('running')

    const impatient = appOver({ overrides: { IDEMPOTENCY_WAIT_S: '0' }, clock })
    expect((await post(impatient, t, 'orphaned-claim', body)).status).toBe(409)
    clock.advance(CLAIM_LEASE_MS + 1_000)
    const retry = await post(impatient, t, 'orphaned-claim', body)
    expect(retry.status).toBe(201)
    expect(await refs(t)).toBe(1)
  })
})

describe('raw bodies and the operator route', () => {
  test('POST /v1/inbound reads its raw body after the key is checked, and a retry replays the stored message', async () => {
    const t = await createTenant(sys)
    const [account] = await sys.tiers.oltp.query<{ email_address: string }>(`SELECT email_address FROM oltp.email_accounts WHERE tenant_id = $1`, [t.id])
    const raw = [
      'From: Lead <lead@example.com>',
      `To: ${account!.email_address}`,
      'Subject: Re: Quick question',
      'Message-ID: <idem-inbound-1@example.com>',
      'Date: Mon, 02 Mar 2026 09:00:00 +0000',
      '',
      'Sounds good, let us talk.',
      '',
    ].join('\r\n')
    const send = () => call(sys, 'POST', '/v1/inbound', { token: t.key, rawBody: raw, headers: { 'content-type': 'message/rfc822', 'idempotency-key': 'mail-1' } })
    const first = await send()
    expect(first.status).toBe(201)
    expect(first.body.subject).toBe('Re: Quick question')
    const again = await send()
    expect(again.status).toBe(201)
    expect(replayed(again)).toBe('true')
    expect(again.body.id).toBe(first.body.id)
    expect(await refs(t)).toBe(1)
  })

  test('POST /v1/tenants takes keys of its own: a retry returns the same tenant and API key, kept sealed', async () => {
    const create = (key: string) => call(sys, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'Idempotent operator' }, headers: { 'idempotency-key': key } })
    const first = await create('tenant-once')
    const again = await create('tenant-once')
    expect([first.status, again.status]).toEqual([201, 201])
    expect(replayed(again)).toBe('true')
    expect(again.body.api_key).toBe(first.body.api_key)
    expect(await count(sys.tiers.oltp, `oltp.tenants WHERE id = $1`, [first.body.tenant.id])).toBe(1)
    // The new tenant's own key of the same value is another key: it runs its own request.
    const tenantKey = await call(sys, 'POST', '/v1/campaigns', { token: first.body.api_key, body: { name: 'First' }, headers: { 'idempotency-key': 'tenant-once' } })
    expect(tenantKey.status).toBe(201)
    expect(replayed(tenantKey)).toBeNull()
    // The API key is shown once and never stored in the clear: nor is the client's key.
    const rows = await sys.tiers.oltp.query<{ response: Uint8Array; key_hash: string }>(`SELECT response, key_hash FROM oltp.idempotency_keys`)
    expect(rows.length).toBeGreaterThanOrEqual(2)
    const stored = rows.map((r) => Buffer.from(r.response ?? []).toString('latin1') + r.key_hash).join('\n')
    expect(stored).not.toContain(first.body.api_key)
    expect(stored).not.toContain(first.body.tenant.id)
    expect(stored).not.toContain('tenant-once')
  })
})

describe('the service', () => {
  test('an answer over the size cap is not kept: a copy is refused (409) rather than run again', async () => {
    const keys = new IdempotencyKeys(sys.deps)
    const t = await createTenant(sys)
    const req = { owner: t.id, key: 'huge-answer', requestHash: 'a'.repeat(64) }
    const begun = await keys.begin(req)
    if (begun.kind !== 'run') throw new Error(`expected a claim, got ${begun.kind}`)
    await begun.claim.keep({ status: 200, contentType: 'application/json', body: new Uint8Array(MAX_KEPT_ANSWER_BYTES + 1) })
    expect(await keys.begin(req)).toEqual({ kind: 'not_kept', status: 200 })
    expect(await keys.begin({ ...req, requestHash: 'b'.repeat(64) })).toEqual({ kind: 'reused' })
  })
})
