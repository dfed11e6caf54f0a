/**
 * A redelivered message (same Message-ID) is stored once, however many copies arrive at the same
 * moment: the unique inbound Message-ID index decides, not a read before the write.
 */
import { describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ADMIN_TOKEN, testConfig, useSystem } from '../support/system.ts'
import { call } from '../support/api.ts'
import { drainQueues, emptyQueues } from '../support/queues.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const REPLY = join(import.meta.dir, '..', 'fixtures', 'inbound', 'reply-plain.eml')

describe('inbound redelivery', () => {
  test('10 concurrent copies of one message: one ref, one reply counted, every answer names it', async () => {
    await emptyQueues(sys.tiers)
    const key = (await call(sys, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'redelivery' } })).body.api_key
    const account = await call(sys, 'POST', '/v1/email-accounts', { token: key, body: { email_address: 'sales@acme.test' } })
    const campaign = await call(sys, 'POST', '/v1/campaigns', { token: key, body: { name: 'once' } })
    const original = await call(sys, 'POST', '/v1/messages', {
      token: key,
      body: {
        email_account_id: account.body.id,
        campaign_id: campaign.body.id,
        from_email: 'sales@acme.test',
        to_email: 'jane@example.com',
        subject: 'Quick question',
        content_text: 'Hi',
        rfc822_message_id: '<out-1@acme.test>',
      },
    })
    expect(original.status).toBe(201)

    const raw = await readFile(REPLY)
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        call(sys, 'POST', '/v1/inbound', { token: key, rawBody: raw, headers: { 'content-type': 'message/rfc822' } }),
      ),
    )
    expect(answers.map((a) => a.status).filter((s) => s !== 200 && s !== 201)).toEqual([])
    expect(answers.filter((a) => a.status === 201)).toHaveLength(1)
    const ids = new Set(answers.map((a) => a.body.id))
    expect(ids.size).toBe(1)

    const refs = await sys.tiers.oltp.query<{ id: string }>(
      `SELECT id FROM oltp.inbox_message_refs WHERE rfc822_message_id = '<CAJane-reply-1@mail.example.com>'`,
    )
    expect(refs.map((r) => r.id)).toEqual([...ids])

    await drainQueues(sys)
    const report = await call(sys, 'GET', `/v1/analytics/campaigns/${campaign.body.id}`, { token: key })
    expect(report.body).toMatchObject({ sent: 1, replied: 1, unique_replied: 1 })

    // The copies that lost the race left no content behind: one body for the reply, one for the original.
    const bodies = await sys.tiers.content.query<{ n: string }>(`SELECT count(*) AS n FROM content.content_objects WHERE tenant_id = $1`, [
      original.body.tenant_id,
    ])
    expect(Number(bodies[0]!.n)).toBe(2)

    // Through POST /v1/messages the same Message-ID is a conflict, not a second copy.
    const again = await call(sys, 'POST', '/v1/messages', {
      token: key,
      body: {
        email_account_id: account.body.id,
        direction: 'inbound',
        from_email: 'jane@example.com',
        to_email: 'sales@acme.test',
        subject: 'Re: Quick question',
        content_text: 'the same message again',
        rfc822_message_id: '<CAJane-reply-1@mail.example.com>',
      },
    })
    expect(again.status).toBe(409)
    expect(again.body.errors).toEqual([{ field: 'rfc822_message_id', message: 'already exists' }])
  })
})
