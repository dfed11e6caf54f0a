/** Transactional emails and notifications: stored in the content tier, listed, read back, tenant-scoped. */
import { describe, expect, test } from 'bun:test'
import { useSystem } from '../support/system.ts'
import { call, createTenant } from '../support/api.ts'
import { rowCounts } from '../support/databases.ts'

const sys = useSystem()

describe('transactional emails', () => {
  test('round trip with a compressed body; another tenant gets 404; bad input writes nothing', async () => {
    const a = await createTenant(sys, 'tx-a')
    const b = await createTenant(sys, 'tx-b')
    const html = `<p>${'Your receipt for order 1042. '.repeat(80)}</p>`
    const created = await call(sys, 'POST', '/v1/transactional-emails', {
      token: a.key,
      body: { to_email: 'buyer@example.com', from_email: 'shop@a.test', subject: 'Receipt #1042', template_key: 'receipt', content_html: html, headers: { 'X-Order': '1042' } },
    })
    expect(created.status).toBe(201)
    expect(created.body).toMatchObject({ subject: 'Receipt #1042', template_key: 'receipt', status: 'queued' })
    const got = await call(sys, 'GET', `/v1/transactional-emails/${created.body.id}`, { token: a.key })
    expect(got.body.content).toEqual({ content_text: null, content_html: html, headers: [{ name: 'X-Order', value: '1042' }] })
    const list = await call(sys, 'GET', '/v1/transactional-emails', { token: a.key })
    expect(list.body.data.map((r: any) => r.id)).toEqual([created.body.id])

    expect((await call(sys, 'GET', `/v1/transactional-emails/${created.body.id}`, { token: b.key })).status).toBe(404)
    expect((await call(sys, 'GET', '/v1/transactional-emails', { token: b.key })).body.data).toEqual([])
    const before = await rowCounts(sys)
    const bad = await call(sys, 'POST', '/v1/transactional-emails', { token: a.key, body: { to_email: 'nope', from_email: 'shop@a.test', subject: 'x' } })
    expect(bad.status).toBe(422)
    expect(bad.body.errors[0].field).toBe('to_email')
    expect(await rowCounts(sys)).toEqual(before)
    // Stored in the content tier as its own kind, counted by the storage report.
    const report = await call(sys, 'GET', '/v1/storage', { token: a.key })
    expect(report.body.objects).toBe(1)
    expect(report.body.stored_bytes).toBeLessThan(report.body.raw_bytes)
  })
})

describe('notifications', () => {
  test('created and listed newest first, filtered by user, scoped to the tenant', async () => {
    const a = await createTenant(sys, 'nt-a')
    const b = await createTenant(sys, 'nt-b')
    const user = '01900000-0000-7000-8000-0000000000aa'
    const first = await call(sys, 'POST', '/v1/notifications', { token: a.key, body: { title: 'Campaign finished', data: { sent: 120 } } })
    const second = await call(sys, 'POST', '/v1/notifications', { token: a.key, body: { title: 'Mailbox disconnected', user_id: user, channel: 'email' } })
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ channel: 'in_app', data: { sent: 120 }, read_at: null })
    const all = await call(sys, 'GET', '/v1/notifications', { token: a.key })
    expect(all.body.data.map((n: any) => n.title)).toEqual(['Mailbox disconnected', 'Campaign finished'])
    const forUser = await call(sys, 'GET', `/v1/notifications?user_id=${user}`, { token: a.key })
    expect(forUser.body.data.map((n: any) => n.id)).toEqual([second.body.id])
    expect((await call(sys, 'GET', '/v1/notifications', { token: b.key })).body.data).toEqual([])
    const bad = await call(sys, 'POST', '/v1/notifications', { token: a.key, body: { title: '', channel: 'pigeon' } })
    expect(bad.status).toBe(422)
    expect(bad.body.errors.map((e: any) => e.field).sort()).toEqual(['channel', 'title'])
  })
})
