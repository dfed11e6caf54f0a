/**
 * POST /v1/messages/batch: each item is checked and stored on its own terms, answered in order,
 * and the stored ones read back with their own content.
 */
import { describe, expect, test } from 'bun:test'
import { call, createTenant, messageBody } from '../support/api.ts'
import { countingDb } from '../support/faults.ts'
import { makeDeps, useSystem, type TestSystem } from '../support/system.ts'
import { createApp } from '../../src/http/app.ts'
import { tiersFrom } from '../../src/db/tiers.ts'

const sys = useSystem()

const refsOf = (tenantId: string) =>
  sys.tiers.oltp.query<{ id: string; subject: string }>(`SELECT id, subject FROM oltp.inbox_message_refs WHERE tenant_id = $1 ORDER BY subject`, [tenantId])

describe('batch ingest', () => {
  test('mixed items: the good ones are stored, each bad one answered with its own problem', async () => {
    const t = await createTenant(sys, 'batch-mixed')
    const messages = [
      messageBody(t.accountId, { subject: 'a', content_text: 'first body', attachments: [{ filename: 'x.txt', mime_type: 'text/plain', content_base64: 'aGk=' }] }),
      messageBody(t.accountId, { subject: 'b', to_email: 'not an address' }),
      messageBody('0190b5a0-0000-7000-8000-000000000000', { subject: 'c' }),
      messageBody(t.accountId, { subject: 'd', content_html: '<p>fourth</p>' }),
      { subject: 'e' },
    ]
    const r = await call(sys, 'POST', '/v1/messages/batch', { token: t.key, body: { messages } })
    expect(r.status).toBe(200)
    expect(r.body.results.map((x: any) => [x.index, x.status])).toEqual([
      [0, 201],
      [1, 422],
      [2, 404],
      [3, 201],
      [4, 422],
    ])
    expect({ created: r.body.created, failed: r.body.failed }).toEqual({ created: 2, failed: 3 })
    expect(r.body.results[1].errors).toEqual([{ field: 'to_email', message: expect.any(String) }])
    expect(r.body.results[2].errors).toEqual([{ field: 'email_account_id', message: expect.any(String) }])
    expect(r.body.results[4].errors.map((e: any) => e.field)).toContain('email_account_id')

    expect((await refsOf(t.id)).map((x) => x.subject)).toEqual(['a', 'd'])
    const first = await call(sys, 'GET', `/v1/messages/${r.body.results[0].id}`, { token: t.key })
    expect(first.body.content.content_text).toBe('first body')
    expect(first.body.attachments.map((a: any) => a.filename)).toEqual(['x.txt'])
    const fourth = await call(sys, 'GET', `/v1/messages/${r.body.results[3].id}`, { token: t.key })
    expect(fourth.body.content.content_html).toBe('<p>fourth</p>')
  })

  test('an item the database refuses fails alone with a 500 that names no driver text', async () => {
    const t = await createTenant(sys, 'batch-poison')
    // The ref of item 3 is refused (its content, committed with the others', is left for the orphan collector).
    const oltp = countingDb(sys.tiers.oltp, { sql: 'INSERT INTO oltp.inbox_message_refs', param: 'POISONED' })
    const shared = sys.tiers.oltp === sys.tiers.queue
    const app = createApp(makeDeps(tiersFrom({ ...sys.tiers, oltp: oltp.db, queue: shared ? oltp.db : sys.tiers.queue })))
    const messages = Array.from({ length: 10 }, (_, i) => messageBody(t.accountId, { subject: i === 3 ? 'POISONED' : `m${i}` }))
    const r = await call({ ...sys, app } as TestSystem, 'POST', '/v1/messages/batch', { token: t.key, body: { messages } })
    expect(r.status).toBe(200)
    expect(r.body.results.map((x: any) => x.status)).toEqual(messages.map((_, i) => (i === 3 ? 500 : 201)))
    expect(r.body.results[3].detail).not.toContain('injected')
    expect((await refsOf(t.id)).map((x) => x.subject)).toEqual(messages.map((m) => m.subject).filter((s) => s !== 'POISONED'))
  })

  test('over the item cap, or empty, is refused whole with nothing stored', async () => {
    const t = await createTenant(sys, 'batch-cap')
    const many = Array.from({ length: 501 }, (_, i) => messageBody(t.accountId, { subject: `m${i}` }))
    const over = await call(sys, 'POST', '/v1/messages/batch', { token: t.key, body: { messages: many } })
    expect(over.status).toBe(422)
    expect(over.body.errors.map((e: any) => e.field)).toEqual(['messages'])
    expect((await call(sys, 'POST', '/v1/messages/batch', { token: t.key, body: { messages: [] } })).status).toBe(422)
    expect(await refsOf(t.id)).toEqual([])
  })

  test('a replay with the same Idempotency-Key answers the same and stores nothing more', async () => {
    const t = await createTenant(sys, 'batch-idem')
    const body = { messages: [messageBody(t.accountId, { subject: 'once' }), messageBody(t.accountId, { subject: 'twice?' })] }
    const headers = { 'Idempotency-Key': 'batch-1' }
    const first = await call(sys, 'POST', '/v1/messages/batch', { token: t.key, body, headers })
    const again = await call(sys, 'POST', '/v1/messages/batch', { token: t.key, body, headers })
    expect(again.status).toBe(200)
    expect(again.headers.get('idempotent-replayed')).toBe('true')
    expect(again.body).toEqual(first.body)
    expect(await refsOf(t.id)).toHaveLength(2)
  })

  test('another tenant’s ids are refused per item', async () => {
    const mine = await createTenant(sys, 'batch-mine')
    const theirs = await createTenant(sys, 'batch-theirs')
    const r = await call(sys, 'POST', '/v1/messages/batch', {
      token: mine.key,
      body: { messages: [messageBody(theirs.accountId, { subject: 'x' }), messageBody(mine.accountId, { subject: 'y' })] },
    })
    expect(r.body.results.map((x: any) => x.status)).toEqual([404, 201])
    expect(await refsOf(theirs.id)).toEqual([])
  })
})
