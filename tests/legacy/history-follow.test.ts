/**
 * History in analytics as the migration changes under it: a reply whose parent arrives in a later
 * batch counts once the parent lands; follow's updates and deletes move and remove counts; a
 * --via-queue redelivery after a lost history catches it up; a rollback interrupted after the
 * history left is exact when run again, and so is a migrate that catches the history back up. A
 * live reply to a migrated message counts a unique reply only once the migrated one is gone, and
 * the doctor's recount of the rollups agrees throughout.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Capture } from '../../src/legacy/capture.ts'
import { parseMapping } from '../../src/legacy/mapping.ts'
import { checkMapping, LegacyReader, sourceLabel } from '../../src/legacy/source.ts'
import { campaignReport, recordEvents, refreshViews } from '../../src/services/analytics.ts'
import { runDoctor } from '../../src/services/doctor.ts'
import { followOnce, type FollowOptions } from '../../src/services/legacy/follow.ts'
import { rollbackHistory } from '../../src/services/legacy/history.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { subtractRollupDeltas, type HistoryDeltas } from '../../src/tiers/analytics/legacy-history.ts'
import { runQueuedBatch } from '../../src/services/legacy/queue.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { drainQueues } from '../support/queues.ts'
import { makeDeps, testConfig, useSystem } from '../support/system.ts'
import { createSource, createWorld, SHAPE_A_DDL, SHAPE_A_MAPPING, type Source, type World } from './support.ts'

let src: Source
let world: World

beforeAll(async () => {
  src = await createSource()
  await src.db.exec(SHAPE_A_DDL)
})
afterAll(() => src.drop())
const sys = useSystem()

const DAY = 86_400_000
const at = (daysAgo: number) => Math.floor((Date.now() - daysAgo * DAY) / DAY) * DAY + 12 * 3_600_000
const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10)

// Keys chosen so the reply sorts before its parent: with one row a batch, it commits first, unlinked.
const REPLY = '10000000-0000-4000-8000-000000000001'
const OTHER = '20000000-0000-4000-8000-000000000001'
const ANSWER = '30000000-0000-4000-8000-000000000001'
const PARENT = 'f0000000-0000-4000-8000-000000000001'

async function row(id: string, o: { parent?: string; type?: string; at: number }) {
  const inbound = Boolean(o.parent)
  await src.db.query(
    `INSERT INTO legacy.emails (id, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, parent_message_id, direction,
       message_type, from_email, to_email, subject, status, message_id, content_text, headers, created, updated)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'hello', $12, $13, 'hi', '[]'::jsonb, $14, $14)`,
    [
      id,
      world.tenant,
      world.account,
      inbound ? null : world.campaign,
      inbound ? null : world.step,
      world.lead,
      o.parent ?? null,
      inbound ? 'inbound' : 'outbound',
      o.type ?? 'email',
      inbound ? 'jane@example.com' : world.address,
      inbound ? world.address : 'jane@example.com',
      inbound ? 'received' : 'sent',
      `<${id}@legacy.test>`,
      new Date(o.at),
    ],
  )
}

const mapping = parseMapping(SHAPE_A_MAPPING)

async function options(): Promise<FollowOptions> {
  const reader = new LegacyReader(src.db, mapping, await checkMapping(src.db, mapping))
  return { reader, run: 'hf', source: sourceLabel(src.url, mapping.table), tenant: null, batchSize: 1, rate: 0, capture: new Capture(src.db, mapping) }
}

async function day(daysAgo: number) {
  await refreshViews(sys.deps)
  const r = await campaignReport(sys.deps, world.tenant, world.campaign, { from: dayOf(at(daysAgo)), to: dayOf(at(daysAgo)) })
  const { sent, replied, unique_replied, auto_replied, bounced, hard_bounced } = r
  return { sent, replied, unique_replied, auto_replied, bounced, hard_bounced }
}

const zero = { sent: 0, replied: 0, unique_replied: 0, auto_replied: 0, bounced: 0, hard_bounced: 0 }

/** The doctor's recount of the rollups from events, which must add the history's recorded deltas. */
const recount = async () => (await runDoctor(sys.deps, { full: true })).checks.find((c) => c.name === 'analytics_recount')

const rollups = () =>
  sys.tiers.analytics.query(`SELECT dimension, dim_id, day::text, metric, n::text FROM analytics.rollup_daily WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4`, [world.tenant])

describe('legacy history under change', () => {
  test('late parents, follow updates and deletes, a queue redelivery and an interrupted rollback keep the counts exact', async () => {
    world = await createWorld(sys.deps, 'history-follow')
    await row(PARENT, { at: at(30) })
    await row(REPLY, { parent: PARENT, at: at(29) })
    await row(OTHER, { at: at(30) })
    await row(ANSWER, { parent: OTHER, type: 'bounce', at: at(28) })
    const o = await options()
    await o.capture.install()

    // The reply's batch (1) committed before its parent's (4): counted when the parent linked it.
    expect((await migrateLegacy(sys.deps, o)).batches).toBe(4)
    expect(await day(30)).toEqual({ ...zero, sent: 2 })
    expect(await day(29)).toEqual({ ...zero, replied: 1, unique_replied: 1 })
    expect(await day(28)).toEqual({ ...zero, bounced: 1, hard_bounced: 1 })

    // A live reply to the migrated parent: a reply today, but not a unique one (its first was day 29).
    await recordEvents(sys.deps, [
      {
        tenant_id: world.tenant,
        event_id: 'live-reply',
        message_id: PARENT,
        type: 'replied',
        bounce_type: null,
        occurred_at: new Date().toISOString(),
        email_account_id: world.account,
        campaign_id: world.campaign,
        sequence_step_id: world.step,
        metadata: null,
      },
    ])
    await drainQueues(sys)
    expect(await day(0)).toEqual({ ...zero, replied: 1 })
    expect(await recount()).toMatchObject({ violations: 0 })

    // follow: the bounce becomes an auto-reply, the reply is deleted from the legacy table.
    await src.db.query(`UPDATE legacy.emails SET message_type = 'auto_reply' WHERE id = $1`, [ANSWER])
    await src.db.query(`DELETE FROM legacy.emails WHERE id = $1`, [REPLY])
    const cycle = await followOnce(sys.deps, o)
    expect(cycle).toMatchObject({ updated: 1, deleted: 1 })
    expect(await day(28)).toEqual({ ...zero, auto_replied: 1 })
    expect(await day(29)).toEqual(zero)
    expect(await day(30)).toEqual({ ...zero, sent: 2 })
    // The migrated reply gone, the live one is the parent's first reply: unique today.
    expect(await day(0)).toEqual({ ...zero, replied: 1, unique_replied: 1 })
    expect(await recount()).toMatchObject({ violations: 0 })
    const settled = await rollups()

    // A queue redelivery of a committed batch whose history was lost catches it up, once.
    const lost = await sys.tiers.analytics.query<{ deltas: unknown }>(`DELETE FROM analytics.legacy_history WHERE run = 'hf' AND batch_no = 2 RETURNING deltas`)
    expect(lost).toHaveLength(1)
    await rollbackHistoryOf(lost[0]!.deltas)
    expect(await day(30)).toEqual({ ...zero, sent: 1 })
    const worker = makeDeps(sys.tiers, { config: testConfig({ LEGACY_SOURCE_URL: src.url }) })
    await runQueuedBatch(worker, { run: 'hf', batch_no: 2, after: REPLY, last: OTHER })
    await runQueuedBatch(worker, { run: 'hf', batch_no: 2, after: REPLY, last: OTHER })
    expect(await rollups()).toEqual(settled)

    // A rollback that died after taking the history out: run again, nothing more is subtracted;
    // a migrate in between would have put it back exactly.
    await rollbackHistory(sys.deps, world.tenant)
    expect(await day(30)).toEqual(zero)
    await migrateLegacy(sys.deps, o) // catches every batch's history back up
    expect(await rollups()).toEqual(settled)
    await rollbackHistory(sys.deps, world.tenant)
    await rollbackLegacy(sys.deps, { tenant: world.tenant })
    // Only the live reply's counts are left.
    expect(new Set((await rollups()).map((r) => `${r.day} ${r.metric} ${r.n}`))).toEqual(new Set([`${dayOf(Date.now())} replied 1`, `${dayOf(Date.now())} unique_replied 1`]))
    for (const d of [30, 29, 28]) expect(await day(d)).toEqual(zero)
    expect(await day(0)).toEqual({ ...zero, replied: 1, unique_replied: 1 })
    expect(await recount()).toMatchObject({ violations: 0 })
  })
})

/** What a crash before the marker committed would have left: the batch's deltas not applied either. */
async function rollbackHistoryOf(deltas: unknown) {
  await sys.tiers.analytics.transaction((tx) => subtractRollupDeltas(tx, (deltas as HistoryDeltas).rollups))
}
