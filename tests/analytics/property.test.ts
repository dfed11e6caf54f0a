/**
 * Property: whatever the events (random types, days, bounce reasons and kinds, duplicates, order
 * and batching), the three views equal a brute-force recount of the distinct raw events.
 */
import { expect, test } from 'bun:test'
import fc from 'fast-check'
import { testConfig, useSystem } from '../support/system.ts'
import { call, createTenant, messageBody } from '../support/api.ts'
import { drainQueues } from '../support/queues.ts'
import { COUNT_COLUMNS } from '../../src/tiers/analytics/views.ts'
import { BOUNCE_REASONS, kindOf, type BounceReason } from '../../src/inbound/reasons.ts'

const sys = useSystem(testConfig({ ANALYTICS_REFRESH_DEBOUNCE_S: '0' }))

const TYPES = ['delivered', 'opened', 'clicked', 'replied', 'auto_replied', 'bounced', 'unsubscribed', 'complained'] as const
const DAYS = ['2026-11-01', '2026-11-02', '2026-11-03']

interface Msg {
  id: string
  account: string
  campaign: string | null
  step: string | null
  created: string
}
interface Ev {
  event_id: string
  message: number
  type: (typeof TYPES)[number]
  at: string
  bounce_type?: 'hard' | 'soft'
  reason?: BounceReason
}

type Row = Record<string, number> & { bounce_reasons: Record<string, number> }

const eventArb = fc.record({
  message: fc.nat({ max: 5 }),
  type: fc.constantFrom(...TYPES),
  day: fc.constantFrom(...DAYS),
  hour: fc.integer({ min: 0, max: 23 }),
  // A bounce says its kind, its reason, both or neither.
  kind: fc.constantFrom('hard' as const, 'soft' as const, undefined),
  reason: fc.option(fc.constantFrom(...BOUNCE_REASONS), { nil: undefined }),
})

/** Counts per view row key, from the raw events alone. */
function bruteForce(msgs: Msg[], events: Ev[]) {
  const distinct = [...new Map(events.map((e) => [e.event_id, e])).values()]
  const rows = new Map<string, Row>()
  const row = (key: string): Row => {
    if (!rows.has(key)) rows.set(key, { ...Object.fromEntries(COUNT_COLUMNS.map((c) => [c, 0])), bounce_reasons: {} } as Row)
    return rows.get(key)!
  }
  const add = (key: string, metric: string, n = 1) => {
    row(key)[metric] = (row(key)[metric] ?? 0) + n
  }
  const addReason = (key: string, reason: string) => {
    const reasons = row(key).bounce_reasons
    reasons[reason] = (reasons[reason] ?? 0) + 1
  }
  const keys = (m: Msg, day: string) => [
    ...(m.campaign ? [`campaign|${m.campaign}|${day}`] : []),
    ...(m.step ? [`step|${m.step}|${day}`] : []),
    `mailbox|${m.account}|${day}`,
  ]
  for (const m of msgs) for (const k of keys(m, m.created.slice(0, 10))) add(k, 'sent')
  for (const e of distinct) {
    const m = msgs[e.message]!
    for (const k of keys(m, e.at.slice(0, 10))) {
      add(k, e.type)
      if (e.type === 'bounced') {
        // What the API derives for a bounce without a kind: its reason's, else hard.
        add(k, `${e.bounce_type ?? (e.reason ? kindOf(e.reason, null) : 'hard')}_bounced`)
        addReason(k, e.reason ?? 'undetermined')
      }
    }
  }
  for (const [i, m] of msgs.entries()) {
    for (const type of ['opened', 'clicked', 'replied']) {
      const first = distinct.filter((e) => e.message === i && e.type === type).map((e) => e.at).sort()[0]
      if (first) for (const k of keys(m, first.slice(0, 10))) add(k, `unique_${type}`)
    }
  }
  return rows
}

async function fromViews(tenantId: string) {
  const rows = new Map<string, Row>()
  const views = [
    ['campaign', 'campaign_analytics', 'campaign_id'],
    ['step', 'sequence_step_analytics', 'sequence_step_id'],
    ['mailbox', 'mailbox_analytics', 'email_account_id'],
  ] as const
  for (const [dim, view, col] of views) {
    const result = await sys.tiers.analytics.query<Record<string, unknown>>(
      `SELECT ${col} AS id, day::text AS day, ${COUNT_COLUMNS.join(', ')}, bounce_reasons FROM analytics.${view} WHERE tenant_id = $1`,
      [tenantId],
    )
    for (const r of result) {
      const counts = Object.fromEntries(COUNT_COLUMNS.map((c) => [c, Number(r[c])]))
      // A row whose counts net to zero (a unique that moved away) is the same as no row.
      if (Object.values(counts).some((n) => n !== 0)) rows.set(`${dim}|${r.id}|${r.day}`, { ...counts, bounce_reasons: r.bounce_reasons } as Row)
    }
  }
  return rows
}

let run = 0

test('the views equal a brute-force recount of the raw events', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(eventArb, { minLength: 1, maxLength: 40 }),
      fc.array(fc.nat({ max: 39 }), { maxLength: 10 }),
      fc.integer({ min: 1, max: 15 }),
      async (generated, duplicates, chunk) => {
        const t = await createTenant(sys, `prop-${++run}`)
        const campaign = (await call(sys, 'POST', '/v1/campaigns', { token: t.key, body: { name: 'p' } })).body.id
        const step = (await call(sys, 'POST', `/v1/campaigns/${campaign}/steps`, { token: t.key, body: { step_number: 1 } })).body.id
        const msgs: Msg[] = []
        for (let i = 0; i < 6; i++) {
          // Two messages in no campaign, two in the campaign, two in its step.
          const extra = i < 2 ? {} : i < 4 ? { campaign_id: campaign } : { sequence_step_id: step }
          const r = (await call(sys, 'POST', '/v1/messages', { token: t.key, body: messageBody(t.accountId, extra) })).body
          msgs.push({ id: r.id, account: r.email_account_id, campaign: r.campaign_id, step: r.sequence_step_id, created: r.created })
        }
        const events: Ev[] = generated.map((g, i) => ({
          event_id: `ev-${i}`,
          message: g.message,
          type: g.type,
          at: `${g.day}T${String(g.hour).padStart(2, '0')}:00:00.000Z`,
          ...(g.type === 'bounced' && g.kind ? { bounce_type: g.kind } : {}),
          ...(g.type === 'bounced' && g.reason ? { reason: g.reason } : {}),
        }))
        // Redeliveries: exact copies of some events, appended, then everything in batches.
        const sent = [...events, ...duplicates.filter((d) => d < events.length).map((d) => events[d]!)]
        for (let i = 0; i < sent.length; i += chunk) {
          const batch = sent.slice(i, i + chunk).map((e) => ({
            event_id: e.event_id,
            message_id: msgs[e.message]!.id,
            type: e.type,
            occurred_at: e.at,
            ...(e.bounce_type ? { bounce_type: e.bounce_type } : {}),
            ...(e.reason ? { metadata: { reason: e.reason } } : {}),
          }))
          const r = await call(sys, 'POST', '/v1/events', { token: t.key, body: { events: batch } })
          if (r.status !== 202) throw new Error(`POST /v1/events: ${r.status}`)
        }
        await drainQueues(sys)
        expect(Object.fromEntries(await fromViews(t.id))).toEqual(Object.fromEntries(bruteForce(msgs, events)))
      },
    ),
    { numRuns: 12, seed: Number(process.env.FC_SEED ?? 20261128) },
  )
}, 120_000)
