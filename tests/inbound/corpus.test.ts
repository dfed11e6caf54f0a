/**
 * The classification corpus (tests/fixtures/inbound/corpus, written by generate.ts there): every
 * message posted through the API, its type, reason, hard/soft, status, recipient and thread
 * compared with expected.json. Accuracy per class is printed; any mismatch fails the file.
 */
import { beforeAll, describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Expected } from '../fixtures/inbound/corpus/generate.ts'
import { call, type Reply } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { ADMIN_TOKEN, testConfig, useSystem } from '../support/system.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const DIR = join(import.meta.dir, '..', 'fixtures', 'inbound', 'corpus')

let key = ''
let campaignId = ''
let expected: Expected[] = []
const outbound = new Map<string, string>() // rfc822 id → message id
const answers = new Map<string, Reply>()

/** What the API said, in the table's terms. */
function observed(r: Reply, e: Expected) {
  const c = r.body.classification ?? {}
  const detail = c.bounce ?? c.delivery ?? c.complaint ?? {}
  return {
    type: c.type,
    reason: detail.reason,
    kind: detail.kind,
    status: detail.status,
    recipient: detail.recipient,
    original: r.body.parent_message_id ? (e.original && outbound.get(e.original) === r.body.parent_message_id ? e.original : r.body.parent_message_id) : null,
  }
}

function mismatches(e: Expected): string[] {
  const r = answers.get(e.file)!
  if (r.status !== 201) return [`HTTP ${r.status}`]
  const got = observed(r, e)
  const out: string[] = []
  for (const field of ['type', 'reason', 'kind', 'status', 'recipient', 'original'] as const) {
    if (e[field] === undefined) continue
    if (got[field] !== e[field]) out.push(`${field}: expected ${JSON.stringify(e[field])}, got ${JSON.stringify(got[field])}`)
  }
  return out
}

beforeAll(async () => {
  expected = JSON.parse(await readFile(join(DIR, 'expected.json'), 'utf8'))
  const t = await call(sys, 'POST', '/v1/tenants', { token: ADMIN_TOKEN, body: { name: 'corpus' } })
  key = t.body.api_key
  const account = await call(sys, 'POST', '/v1/email-accounts', { token: key, body: { email_address: 'sales@acme.test' } })
  campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: key, body: { name: 'corpus' } })).body.id
  for (const e of expected) {
    if (!e.original) continue
    const m = await call(sys, 'POST', '/v1/messages', {
      token: key,
      body: {
        email_account_id: account.body.id,
        campaign_id: campaignId,
        from_email: 'sales@acme.test',
        to_email: e.recipient ?? 'lead@example.com',
        subject: 'Quick question',
        content_text: 'Do you have 10 minutes this week?',
        rfc822_message_id: e.original,
      },
    })
    outbound.set(e.original, m.body.id)
  }
  for (const e of expected) {
    answers.set(e.file, await call(sys, 'POST', '/v1/inbound', { token: key, rawBody: await readFile(join(DIR, e.file)), headers: { 'content-type': 'message/rfc822' } }))
  }
}, 120_000)

describe('inbound corpus', () => {
  test('holds at least 150 messages', () => {
    expect(expected.length).toBeGreaterThanOrEqual(150)
  })

  test('every message is classified as expected (accuracy per class printed)', () => {
    const byClass = new Map<string, { total: number; right: number }>()
    const wrong: string[] = []
    for (const e of expected) {
      const bad = mismatches(e)
      const row = byClass.get(e.class) ?? { total: 0, right: 0 }
      row.total++
      if (bad.length === 0) row.right++
      else wrong.push(`${e.file}: ${bad.join('; ')}`)
      byClass.set(e.class, row)
    }
    const lines = [...byClass].sort().map(([c, { total, right }]) => `  ${c.padEnd(14)} ${right}/${total}  ${((100 * right) / total).toFixed(1)}%`)
    console.log(`inbound corpus, accuracy per class:\n${lines.join('\n')}`)
    expect(wrong).toEqual([])
  })

  test('bounces mark their original bounced; delays, complaints and success reports do not', async () => {
    for (const e of expected.filter((x) => x.original && x.type !== 'email' && x.type !== 'auto_reply')) {
      const m = await call(sys, 'GET', `/v1/messages/${outbound.get(e.original!)}`, { token: key })
      expect({ file: e.file, status: m.body.status }).toEqual({ file: e.file, status: e.type === 'bounce' ? 'bounced' : 'sent' })
    }
  })

  test('the campaign counts bounces hard and soft by the table, complaints and deliveries apart, delays nowhere', async () => {
    await drainQueues(sys)
    const r = await call(sys, 'GET', `/v1/analytics/campaigns/${campaignId}`, { token: key })
    const threaded = expected.filter((e) => e.original)
    const count = (f: (e: Expected) => boolean) => threaded.filter(f).length
    expect(r.body).toMatchObject({
      bounced: count((e) => e.type === 'bounce'),
      hard_bounced: count((e) => e.type === 'bounce' && e.kind === 'hard'),
      soft_bounced: count((e) => e.type === 'bounce' && e.kind === 'soft'),
      auto_replied: count((e) => e.type === 'auto_reply'),
    })
    if ('complained' in r.body) expect(r.body.complained).toBe(count((e) => e.type === 'complaint'))
  })
})
