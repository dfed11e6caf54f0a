/**
 * History in analytics: migrated messages count on their own days (sent, replies, unique replies,
 * auto-replies, bounces by reason) in the campaign, step and mailbox reports; live messages keep
 * their counts and as_of; a crash after a batch's OLTP commit or inside its analytics transaction,
 * then a re-run, counts each message once; a finished re-run adds nothing; rollback restores the
 * analytics tier exactly as it was before the migration.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { campaignReport, mailboxReport, refreshViews, stepReports } from '../../src/services/analytics.ts'
import { pruneBatch } from '../../src/services/prune.ts'
import { migrateLegacy, type MigrateOptions } from '../../src/services/legacy/migrate.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { createMessage } from '../../src/services/messages.ts'
import { drainQueues } from '../support/queues.ts'
import { testConfig, useSystem } from '../support/system.ts'
import { createSource, createWorld, seedShapeA, SHAPE_A_DDL, SHAPE_A_MAPPING, type Source, type World } from './support.ts'

let src: Source
let world: World

beforeAll(async () => {
  src = await createSource()
  await src.db.exec(SHAPE_A_DDL)
})
afterAll(() => src.drop())
// Events are kept 5 + 1 days here: migrated history 10 to 40 days old would be pruned if it were events.
const sys = useSystem(testConfig({ EVENT_MAX_AGE_DAYS: '5', EVENT_RETENTION_MARGIN_DAYS: '1' }))

const DAY = 86_400_000
const midnight = (daysAgo: number) => Math.floor((Date.now() - daysAgo * DAY) / DAY) * DAY
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const D40 = midnight(40) + 3_600_000
const D20 = midnight(20) + 3_600_000
const D10 = midnight(10)

/** A legacy row answering `parent` (inbound, no campaign of its own: it counts on the parent's). */
async function answer(parent: string, type: 'email' | 'bounce' | 'auto_reply', at: number) {
  const id = randomUUID()
  await src.db.query(
    `INSERT INTO legacy.emails (id, tenant_id, email_account_id, lead_id, parent_message_id, direction, message_type, from_email,
       to_email, subject, status, message_id, content_text, headers, created, updated)
     VALUES ($1, $2, $3, $4, $5, 'inbound', $6, 'jane@example.com', $7, 'Re: hello', 'received', $8, 'answer', '[]'::jsonb, $9, $9)`,
    [id, world.tenant, world.account, world.lead, parent, type, world.address, `<${id}@legacy.test>`, new Date(at)],
  )
}

async function outbound(at: number): Promise<string> {
  const id = randomUUID()
  await src.db.query(
    `INSERT INTO legacy.emails (id, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, direction, message_type,
       from_email, to_email, subject, status, message_id, content_text, headers, created, updated)
     VALUES ($1, $2, $3, $4, $5, $6, 'outbound', 'email', $7, 'jane@example.com', 'hello', 'sent', $8, 'hi', '[]'::jsonb, $9, $9)`,
    [id, world.tenant, world.account, world.campaign, world.step, world.lead, world.address, `<${id}@legacy.test>`, new Date(at)],
  )
  return id
}

const mapping = parseMapping(SHAPE_A_MAPPING)

async function migrate(o: Partial<MigrateOptions> = {}) {
  const reader = new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping))
  return migrateLegacy(sys.deps, { reader, run: 'h', source: 'test', tenant: null, batchSize: 4, rate: 0, ...o })
}

/** The reports of one day (or of every day), as_of aside: campaign, its step, mailbox. */
async function reports(day?: string) {
  const r = { from: day, to: day }
  const strip = <T extends { as_of: unknown; freshness_seconds: unknown }>({ as_of, freshness_seconds, ...rest }: T) => rest
  const steps = await stepReports(sys.deps, world.tenant, world.campaign, r)
  return {
    campaign: strip(await campaignReport(sys.deps, world.tenant, world.campaign, r)),
    steps: steps.data.map(strip),
    mailbox: strip(await mailboxReport(sys.deps, world.tenant, world.account, r)),
  }
}

/** Everything of the tenant the analytics tier counts with. */
async function analyticsState() {
  const a = sys.tiers.analytics
  return {
    rollups: await a.query(`SELECT dimension, dim_id, day::text, metric, n::text FROM analytics.rollup_daily WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4`, [world.tenant]),
    firsts: await a.query(`SELECT message_id, type, first_at FROM analytics.message_firsts WHERE tenant_id = $1 ORDER BY 1, 2`, [world.tenant]),
  }
}

const refresh = async () => {
  await drainQueues(sys)
  await refreshViews(sys.deps)
}

describe('legacy history in analytics', () => {
  test('counts land on their own days once, through crashes and re-runs; live counts and as_of are untouched; rollback restores the analytics exactly', async () => {
    world = await createWorld(sys.deps, 'history')
    // Two past days of shape A (six sent, two replies each), and a third day with one outbound
    // message answered by a bounce, an auto-reply and a reply, plus a late reply to day 20's mail.
    await seedShapeA(src, world, 8, D40)
    const day20 = await seedShapeA(src, world, 8, D20)
    const o = await outbound(D10 + 2 * 3_600_000)
    await answer(o, 'bounce', D10 + 3 * 3_600_000)
    await answer(o, 'auto_reply', D10 + 4 * 3_600_000)
    await answer(o, 'email', D10 + 5 * 3_600_000)
    await answer(day20[6]!, 'email', D10 + 6 * 3_600_000)

    // Live mail today, through the API's write path, before the migration.
    const live = () =>
      createMessage(sys.deps, world.tenant, {
        email_account_id: world.account,
        campaign_id: world.campaign,
        sequence_step_id: world.step,
        from_email: world.address,
        to_email: 'jane@example.com',
        subject: 'live',
        content_text: 'live',
        direction: 'outbound',
        message_type: 'email',
      })
    await live()
    await live()
    await refresh()
    const before = await analyticsState()
    const reportsBefore = await reports()
    expect(reportsBefore.campaign.sent).toBe(2)

    // A crash after batch 2's OLTP commit, before its history; then one inside batch 4's history.
    let n = 0
    await expect(migrate({ faults: { beforeHistory: () => { if (++n === 2) throw new Error('killed after the OLTP commit') } } })).rejects.toThrow('killed after the OLTP commit')
    let m = 0
    await expect(migrate({ faults: { insideHistory: () => { if (++m === 2) throw new Error('killed inside the history') } } })).rejects.toThrow('killed inside the history')
    const summary = await migrate()
    expect(summary.total_rows).toBe(21)

    const asOfFloor = new Date().toISOString()
    await live() // live traffic during the migration's aftermath
    await refresh()

    const expectDay = async (day: string, counts: Record<string, unknown>) => {
      const r = await reports(day)
      expect(r.campaign).toMatchObject(counts)
      expect(r.steps[0]).toMatchObject(counts)
      expect(r.mailbox).toMatchObject(counts)
    }
    const none = { bounced: 0, hard_bounced: 0, soft_bounced: 0, auto_replied: 0, bounce_reasons: {} }
    await expectDay(dayOf(D40), { sent: 6, replied: 2, unique_replied: 2, ...none })
    await expectDay(dayOf(D20), { sent: 6, replied: 2, unique_replied: 2, ...none })
    // day 10: the late reply to day 20's message counts as a reply, not a unique one (its first was on day 20)
    await expectDay(dayOf(D10), { sent: 1, replied: 2, unique_replied: 1, auto_replied: 1, bounced: 1, hard_bounced: 1, soft_bounced: 0, bounce_reasons: { undetermined: 1 } })
    await expectDay(dayOf(Date.now()), { sent: 3, replied: 0, unique_replied: 0, bounced: 0 })
    const all = await reports()
    expect(all.campaign).toMatchObject({ sent: 16, replied: 6, unique_replied: 5, auto_replied: 1, bounced: 1 })

    // as_of is still driven by live traffic: the refresh, with nothing waiting, says now, not a past day.
    const asOf = (await campaignReport(sys.deps, world.tenant, world.campaign, {})).as_of
    expect(asOf! >= asOfFloor).toBe(true)

    // The prune keeps it (it deletes events by date, never rollups); a finished migrate run again adds nothing.
    const after = await analyticsState()
    await pruneBatch(sys.deps, { batch_size: 5_000 })
    expect(await analyticsState()).toEqual(after)
    expect((await migrate()).rows).toBe(0)
    expect(await analyticsState()).toEqual(after)
    const [markers] = await sys.tiers.analytics.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.legacy_history WHERE run = 'h'`)
    expect(markers!.n).toBe(summary.batches)

    // Rollback: the history leaves exactly; the live message written since stays counted.
    await rollbackLegacy(sys.deps, { tenant: world.tenant })
    await refresh()
    const [left] = await sys.tiers.analytics.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.legacy_history`)
    expect(left!.n).toBe(0)
    const restored = await analyticsState()
    const today = dayOf(Date.now())
    const bump = (rows: Record<string, string>[]) => rows.map((r) => (r.day === today && r.metric === 'sent' ? { ...r, n: String(Number(r.n) + 1) } : r))
    expect(restored.firsts).toEqual(before.firsts)
    expect(restored.rollups).toEqual(bump(before.rollups as Record<string, string>[]))
    const reportsAfter = await reports()
    expect(reportsAfter).toEqual({
      campaign: { ...reportsBefore.campaign, sent: 3 },
      steps: [{ ...reportsBefore.steps[0]!, sent: 3 }],
      mailbox: { ...reportsBefore.mailbox, sent: 3 },
    })
    for (const day of [D40, D20, D10]) expect((await reports(dayOf(day))).campaign.sent).toBe(0)
  })
})
