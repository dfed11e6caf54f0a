/**
 * Migration 0006_bounce_reasons on a database with history: bounces counted before it get their
 * reasons from the stored events, those whose event was pruned count as undetermined, and every
 * view row's reasons add up to its bounced from the start; bounces applied afterwards add to them.
 */
import { expect, test } from 'bun:test'
import { randomUUID } from 'node:crypto'
import { loadMigrations } from '../../src/db/migrate.ts'
import type { Db } from '../../src/db/types.ts'
import { engine, freshDatabase } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'

useLeakCheck()

const TAG = '0006_bounce_reasons'

const tenant = randomUUID()
const [campaign, step, mailbox] = [randomUUID(), randomUUID(), randomUUID()]

function bounced(id: string, day: string, metadata: unknown, bounce_type = 'hard') {
  return {
    tenant_id: tenant,
    event_id: id,
    message_id: randomUUID(),
    type: 'bounced',
    bounce_type,
    occurred_at: `${day}T10:00:00Z`,
    email_account_id: mailbox,
    campaign_id: campaign,
    sequence_step_id: step,
    metadata,
  }
}

const apply = (db: Db, events: object[]) => db.query(`SELECT analytics.apply_events($1::jsonb, interval '1 minute')`, [JSON.stringify(events)])

/** `<view>|<day>` → [bounced, bounce_reasons] for each of the three views (before the migration: no reasons column). */
async function views(db: Db, reasons = 'bounce_reasons') {
  const rows = await db.query<{ k: string; bounced: string; bounce_reasons: Record<string, number> }>(
    `SELECT 'campaign|' || day AS k, bounced, ${reasons} AS bounce_reasons FROM analytics.campaign_analytics
     UNION ALL SELECT 'step|' || day, bounced, ${reasons} FROM analytics.sequence_step_analytics
     UNION ALL SELECT 'mailbox|' || day, bounced, ${reasons} FROM analytics.mailbox_analytics`,
  )
  return Object.fromEntries(rows.map((r) => [r.k, [Number(r.bounced), r.bounce_reasons]]))
}

const everyView = (day: string, bouncedN: number, reasons: Record<string, number>) =>
  Object.fromEntries(['campaign', 'step', 'mailbox'].map((v) => [`${v}|${day}`, [bouncedN, reasons]]))

test(`${TAG} gives the bounces already counted their reasons, undetermined where the event is gone`, async () => {
  const { db, dispose } = await freshDatabase('edp_br')
  try {
    const migrations = await loadMigrations('analytics')
    const at = migrations.findIndex((m) => m.tag === TAG)
    expect(at).toBeGreaterThan(0)
    for (const m of migrations.slice(0, at)) await db.exec(m.sql)

    // History under the functions of before: reasons only in the events' metadata.
    await apply(db, [
      bounced('a', '2026-10-01', { reason: 'user_unknown' }),
      bounced('b', '2026-10-01', { reason: 'user_unknown', status: '5.1.1' }),
      bounced('c', '2026-10-01', { reason: 'mailbox_full' }, 'soft'),
      bounced('d', '2026-10-01', null),
      bounced('e', '2026-10-02', { reason: 'not in the vocabulary' }),
      bounced('f', '2026-10-02', { reason: 'host_unknown' }),
      bounced('g', '2026-10-03', { reason: 'blocked' }, 'soft'),
      { ...bounced('h', '2026-10-03', null), type: 'opened', bounce_type: null },
    ])
    // Pruned since: counted in the rollups, its event (and its reason) gone.
    await db.query(`DELETE FROM analytics.events WHERE tenant_id = $1 AND event_id IN ('f', 'g')`, [tenant])
    await db.query(`SELECT analytics.refresh_dirty(NULL, '{}')`)
    expect(await views(db, `'{}'::jsonb`)).toEqual({ ...everyView('2026-10-01', 4, {}), ...everyView('2026-10-02', 2, {}), ...everyView('2026-10-03', 1, {}) })

    await db.exec(migrations[at]!.sql)
    expect(await views(db)).toEqual({
      ...everyView('2026-10-01', 4, { user_unknown: 2, mailbox_full: 1, undetermined: 1 }),
      ...everyView('2026-10-02', 2, { undetermined: 2 }),
      ...everyView('2026-10-03', 1, { undetermined: 1 }),
    })
    const [dirty] = await db.query<{ n: string }>(`SELECT count(*) AS n FROM analytics.dirty_keys`)
    expect(Number(dirty!.n)).toBe(0)

    // And from now on each new bounce adds to its reason.
    await apply(db, [bounced('i', '2026-10-01', { reason: 'mailbox_disabled' }), bounced('j', '2026-10-02', { reason: 'user_unknown' })])
    await db.query(`SELECT analytics.refresh_dirty(NULL, '{}')`)
    expect(await views(db)).toEqual({
      ...everyView('2026-10-01', 5, { user_unknown: 2, mailbox_full: 1, undetermined: 1, mailbox_disabled: 1 }),
      ...everyView('2026-10-02', 3, { undetermined: 2, user_unknown: 1 }),
      ...everyView('2026-10-03', 1, { undetermined: 1 }),
    })
  } finally {
    await dispose()
  }
}, 60_000)
