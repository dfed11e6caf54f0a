/**
 * Bounces per reason: each bounce counts under its reason in the three views and in every report,
 * and the reasons add up to bounced as hard_ and soft_bounced do; a reason outside the vocabulary
 * is refused alone at the API, and counted as undetermined if it gets past it; a bounce that names
 * a reason but no bounce_type is as hard or soft as its reason.
 */
import { describe, expect, test } from 'bun:test'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody, type TenantFixture } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { enqueue } from '../../src/jobs/enqueue.ts'
import { BOUNCE_REASONS } from '../../src/inbound/reasons.ts'
import type { AnalyticsEvent } from '../../src/tiers/analytics/events.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))
const FIXTURES = join(import.meta.dir, '..', 'fixtures', 'inbound')
const DAY = 86_400_000

/** Noon UTC `n` days ago, and its date: well inside the window the API accepts. */
const daysAgo = (n: number) => new Date(Math.floor(Date.now() / DAY - n) * DAY + DAY / 2).toISOString()
const DAY1 = daysAgo(2)
const DAY2 = daysAgo(1)

interface Setup extends TenantFixture {
  campaignId: string
  stepIds: string[]
  /** Messages 0 and 1 in step 1, message 2 in step 2. */
  messages: string[]
}

async function setup(name: string): Promise<Setup> {
  const t = await createTenant(sys, name)
  const campaignId = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name } })).body.id
  const stepIds: string[] = []
  for (const n of [1, 2]) {
    stepIds.push((await call(sys, 'POST', `/v1/campaigns/${campaignId}/steps`, { token: t.key, body: { step_number: n } })).body.id)
  }
  const messages: string[] = []
  for (const [i, step] of [stepIds[0], stepIds[0], stepIds[1]].entries()) {
    const body = messageBody(t.accountId, { sequence_step_id: step, rfc822_message_id: `<out-${i + 1}@${name}.test>` })
    messages.push((await call(sys, 'POST', '/v1/messages', { token: t.key, body })).body.id)
  }
  return { ...t, campaignId, stepIds, messages }
}

const bounce = (id: string, message: string, at: string, extra: object = {}) => ({
  event_id: id,
  message_id: message,
  type: 'bounced',
  occurred_at: at,
  ...extra,
})

const post = (s: Setup, events: unknown[]) => call(sys, 'POST', '/v1/events', { token: s.key, body: { events } })
const get = async (s: Setup, path: string) => {
  const r = await call(sys, 'GET', `/v1/analytics/${path}`, { token: s.key })
  expect(r.status).toBe(200)
  return r.body
}

/** Each view's rows of the tenant: `<dimension>|<id>|<day>` → bounce_reasons, for the rows with any. */
async function viewReasons(tenantId: string) {
  const rows = await sys.tiers.analytics.query<{ k: string; bounce_reasons: Record<string, number> }>(
    `SELECT concat_ws('|', 'campaign', campaign_id, day) AS k, bounce_reasons FROM analytics.campaign_analytics WHERE tenant_id = $1
     UNION ALL SELECT concat_ws('|', 'step', sequence_step_id, day), bounce_reasons FROM analytics.sequence_step_analytics WHERE tenant_id = $1
     UNION ALL SELECT concat_ws('|', 'mailbox', email_account_id, day), bounce_reasons FROM analytics.mailbox_analytics WHERE tenant_id = $1`,
    [tenantId],
  )
  return Object.fromEntries(rows.filter((r) => Object.keys(r.bounce_reasons).length > 0).map((r) => [r.k, r.bounce_reasons]))
}

/** Every view row of the tenant whose reasons do not add up to its bounced, or whose hard + soft do not. */
async function rowsNotAddingUp(tenantId: string) {
  return sys.tiers.analytics.query(
    `WITH v AS (
       SELECT day, bounced, hard_bounced, soft_bounced, bounce_reasons FROM analytics.campaign_analytics WHERE tenant_id = $1
       UNION ALL SELECT day, bounced, hard_bounced, soft_bounced, bounce_reasons FROM analytics.sequence_step_analytics WHERE tenant_id = $1
       UNION ALL SELECT day, bounced, hard_bounced, soft_bounced, bounce_reasons FROM analytics.mailbox_analytics WHERE tenant_id = $1)
     SELECT * FROM v
      WHERE bounced <> hard_bounced + soft_bounced
         OR bounced <> (SELECT coalesce(sum(value::bigint), 0) FROM jsonb_each_text(v.bounce_reasons))`,
    [tenantId],
  )
}

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)

describe('per-reason counts', () => {
  test('each bounce counts under its reason in all three views and every report; hard + soft and the reasons add up to bounced', async () => {
    const s = await setup('reasons')
    const [m0, m1, m2] = s.messages as [string, string, string]
    const r = await post(s, [
      bounce('b1', m0, DAY1, { metadata: { reason: 'user_unknown', status: '5.1.1' } }),
      bounce('b2', m1, DAY1, { bounce_type: 'soft', metadata: { reason: 'mailbox_full' } }),
      bounce('b3', m2, DAY1, { bounce_type: 'soft' }), // no reason: undetermined
      bounce('b4', m2, DAY2, { metadata: { reason: 'user_unknown' } }),
      bounce('b5', m0, DAY2, { metadata: { reason: 'blocked' } }),
      { event_id: 'o1', message_id: m0, type: 'opened', occurred_at: DAY2, metadata: { reason: 'not a bounce, not checked' } },
    ])
    expect(r.body.rejected).toEqual([])
    await drainQueues(sys)

    const [day1, day2] = [DAY1.slice(0, 10), DAY2.slice(0, 10)]
    const [step1, step2] = s.stepIds as [string, string]
    const both = { user_unknown: 2, mailbox_full: 1, undetermined: 1, blocked: 1 }
    expect(await viewReasons(s.id)).toEqual({
      [`campaign|${s.campaignId}|${day1}`]: { user_unknown: 1, mailbox_full: 1, undetermined: 1 },
      [`campaign|${s.campaignId}|${day2}`]: { user_unknown: 1, blocked: 1 },
      [`mailbox|${s.accountId}|${day1}`]: { user_unknown: 1, mailbox_full: 1, undetermined: 1 },
      [`mailbox|${s.accountId}|${day2}`]: { user_unknown: 1, blocked: 1 },
      [`step|${step1}|${day1}`]: { user_unknown: 1, mailbox_full: 1 },
      [`step|${step1}|${day2}`]: { blocked: 1 },
      [`step|${step2}|${day1}`]: { undetermined: 1 },
      [`step|${step2}|${day2}`]: { user_unknown: 1 },
    })
    expect(await rowsNotAddingUp(s.id)).toEqual([])

    // The reports sum the days: user_unknown twice, on two days and two steps.
    const campaign = await get(s, `campaigns/${s.campaignId}`)
    expect(campaign).toMatchObject({ bounced: 5, hard_bounced: 2, soft_bounced: 3, bounce_reasons: both })
    expect(await get(s, `email-accounts/${s.accountId}`)).toMatchObject({ bounced: 5, bounce_reasons: both })
    const steps = (await get(s, `campaigns/${s.campaignId}/steps`)).data
    expect(steps.map((x: any) => [x.step_number, x.bounced, x.hard_bounced, x.soft_bounced, x.bounce_reasons])).toEqual([
      [1, 3, 1, 2, { user_unknown: 1, mailbox_full: 1, blocked: 1 }],
      [2, 2, 1, 1, { undetermined: 1, user_unknown: 1 }],
    ])
    for (const report of [campaign, ...steps]) expect(sum(report.bounce_reasons)).toBe(report.bounced)

    // A day range counts only its days; a range without bounces has no reasons, and steps without events none either.
    expect((await get(s, `campaigns/${s.campaignId}?from=${day1}&to=${day1}`)).bounce_reasons).toEqual({ user_unknown: 1, mailbox_full: 1, undetermined: 1 })
    expect((await get(s, `email-accounts/${s.accountId}?from=${day2}`)).bounce_reasons).toEqual({ user_unknown: 1, blocked: 1 })
    const before = daysAgo(30).slice(0, 10)
    expect((await get(s, `campaigns/${s.campaignId}?to=${before}`)).bounce_reasons).toEqual({})
    expect((await get(s, `campaigns/${s.campaignId}/steps?to=${before}`)).data.map((x: any) => x.bounce_reasons)).toEqual([{}, {}])
  })

  test('a bounce the inbound classifier read counts under the reason it found', async () => {
    const s = await setup('acme')
    // Each notice quotes the original it answers: out-2 is message 1 (step 1); out-5 is made message 2 (step 2).
    for (const [file, original] of [['dsn-postfix.eml', '<out-2@acme.test>'], ['dsn-gmail-mailbox-full.eml', '<out-5@acme.test>']] as const) {
      const fixture = (await readFile(join(FIXTURES, file), 'utf8')).replace(original, original === '<out-5@acme.test>' ? '<out-3@acme.test>' : original)
      const r = await call(sys, 'POST', `/v1/inbound?email_account_id=${s.accountId}`, {
        token: s.key,
        rawBody: fixture,
        headers: { 'content-type': 'message/rfc822' },
      })
      expect(r.status).toBe(201)
    }
    await drainQueues(sys)
    expect(await get(s, `campaigns/${s.campaignId}`)).toMatchObject({
      bounced: 2,
      hard_bounced: 1,
      soft_bounced: 1,
      bounce_reasons: { user_unknown: 1, mailbox_full: 1 },
    })
    const steps = (await get(s, `campaigns/${s.campaignId}/steps`)).data
    expect(steps.map((x: any) => x.bounce_reasons)).toEqual([{ user_unknown: 1 }, { mailbox_full: 1 }])
  })
})

describe('reasons at intake', () => {
  test('a bounce whose metadata.reason is not in the vocabulary is refused alone, naming metadata.reason; the batch’s others are counted', async () => {
    const s = await setup('bad-reason')
    const m = s.messages[0]!
    const r = await post(s, [
      bounce('ok-1', m, DAY1, { metadata: { reason: 'user_unknown' } }),
      bounce('bad-text', m, DAY1, { metadata: { reason: 'User Unknown' } }),
      bounce('bad-number', m, DAY1, { metadata: { reason: 550 } }),
      bounce('bad-object', m, DAY1, { metadata: { reason: { code: 'user_unknown' } } }),
      bounce('ok-null', m, DAY1, { metadata: { reason: null } }),
      { event_id: 'ok-open', message_id: m, type: 'opened', occurred_at: DAY1, metadata: { reason: 'anything' } },
    ])
    expect(r.status).toBe(202)
    expect(r.body.accepted).toEqual(['ok-1', 'ok-null', 'ok-open'])
    expect(r.body.rejected.map((x: any) => [x.event_id, x.status, x.field])).toEqual([
      ['bad-text', 422, 'metadata.reason'],
      ['bad-number', 422, 'metadata.reason'],
      ['bad-object', 422, 'metadata.reason'],
    ])
    expect(r.body.rejected[0].detail).toContain('user_unknown')
    await drainQueues(sys)
    expect(await get(s, `campaigns/${s.campaignId}`)).toMatchObject({ bounced: 2, opened: 1, bounce_reasons: { user_unknown: 1, undetermined: 1 } })
  })

  test('a bounce with a reason and no bounce_type is as hard or soft as its reason; a bounce_type given still wins', async () => {
    const s = await setup('derived')
    const m = s.messages[0]!
    const cases: [id: string, extra: object, expected: 'hard' | 'soft'][] = [
      ['host-unknown', { metadata: { reason: 'host_unknown' } }, 'hard'],
      ['rate-limited', { metadata: { reason: 'rate_limited' } }, 'soft'],
      ['policy', { metadata: { reason: 'policy', status: '5.7.1' } }, 'soft'],
      ['disabled-4xx', { metadata: { reason: 'mailbox_disabled', status: '4.2.1' } }, 'soft'],
      ['disabled-5xx', { metadata: { reason: 'mailbox_disabled', status: '5.2.1' } }, 'hard'],
      ['disabled-no-status', { metadata: { reason: 'mailbox_disabled' } }, 'hard'],
      ['disabled-odd-status', { metadata: { reason: 'mailbox_disabled', status: 421 } }, 'hard'],
      ['given-type', { bounce_type: 'soft', metadata: { reason: 'user_unknown' } }, 'soft'],
      ['given-in-metadata', { metadata: { reason: 'user_unknown', bounce_type: 'soft' } }, 'soft'],
      ['given-hard', { bounce_type: 'hard', metadata: { reason: 'mailbox_full' } }, 'hard'],
      ['nothing-said', {}, 'hard'],
    ]
    const r = await post(s, cases.map(([id, extra]) => bounce(id, m, DAY1, extra)))
    expect(r.body.rejected).toEqual([])
    await drainQueues(sys)
    const stored = await sys.tiers.analytics.query<{ event_id: string; bounce_type: string }>(
      `SELECT event_id, bounce_type FROM analytics.events WHERE tenant_id = $1 AND type = 'bounced'`,
      [s.id],
    )
    expect(Object.fromEntries(stored.map((e) => [e.event_id, e.bounce_type]))).toEqual(Object.fromEntries(cases.map(([id, , kind]) => [id, kind])))
    expect(await get(s, `campaigns/${s.campaignId}`)).toMatchObject({ bounced: 11, hard_bounced: 6, soft_bounced: 5 })
  })

  test('past the API, every vocabulary reason counts as itself and anything else as undetermined, without failing the batch', async () => {
    // Events queued before the API checked reasons: the database keeps its own copy of the vocabulary, and it must be BOUNCE_REASONS.
    const s = await setup('past-api')
    const m = s.messages[0]!
    const event = (id: string, metadata: unknown): AnalyticsEvent => ({
      tenant_id: s.id,
      event_id: id,
      message_id: m,
      type: 'bounced',
      bounce_type: 'hard',
      occurred_at: DAY1,
      email_account_id: s.accountId,
      campaign_id: s.campaignId,
      sequence_step_id: s.stepIds[0]!,
      metadata,
    })
    const odd: [string, unknown][] = [
      ['bogus', { reason: 'bogus' }],
      ['long', { reason: 'x'.repeat(500) }],
      ['number', { reason: 550 }],
      ['array', ['user_unknown']],
      ['none', null],
    ]
    const events = [...BOUNCE_REASONS.map((reason) => event(`v-${reason}`, { reason })), ...odd.map(([id, metadata]) => event(id, metadata))]
    await enqueue(sys.tiers.queue, 'events.apply', { events })
    await drainQueues(sys)
    const expected = Object.fromEntries(BOUNCE_REASONS.map((reason) => [reason, reason === 'undetermined' ? 1 + odd.length : 1]))
    expect(await get(s, `campaigns/${s.campaignId}`)).toMatchObject({ bounced: events.length, bounce_reasons: expected })
    expect(await rowsNotAddingUp(s.id)).toEqual([])
  })
})
