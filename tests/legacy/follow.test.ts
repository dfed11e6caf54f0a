/**
 * `legacy follow` and `legacy status`: the legacy application keeps writing while the migration
 * runs and after it; inserts (past the checkpoint and below it), updates of migrated rows and of
 * their attachments, and deletes all reach our tiers under the same ids, status shows the lag,
 * and verify is clean afterwards. Our side on the test engine, the legacy side real PostgreSQL.
 */
import { describe, expect, test } from 'bun:test'
import { Capture } from '../../src/legacy/capture.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { followOnce, followStatus, type FollowOptions } from '../../src/services/legacy/follow.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { legacyRun, verifyLegacy } from '../../src/services/legacy/verify.ts'
import { getMessage } from '../../src/services/messages.ts'
import { useShapeA } from './support.ts'

const N = 12

const fx = useShapeA(N)
const { sys, mapping } = fx


async function options(): Promise<FollowOptions> {
  const reader = new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
  return { reader, run: 'f', source: 'test', tenant: null, batchSize: 4, rate: 0, capture: new Capture(fx.src.db, mapping) }
}

const verify = async () => verifyLegacy(sys.deps, { reader: (await options()).reader, run: await legacyRun(sys.deps, 'f') })

/** One more legacy row like the seeded ones, with its own id and date (a copy of row `from`). */
async function copyRow(from: string, id: string, subject: string) {
  await fx.src.db.query(
    `INSERT INTO legacy.emails SELECT $2::uuid, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, NULL, direction,
            message_type, from_email, to_email, $3, status, '<' || $2 || '@legacy.test>', content_text, content_html, headers,
            created + interval '1 minute', updated
       FROM legacy.emails WHERE id = $1`,
    [from, id, subject],
  )
}

const refCount = async () =>
  Number((await sys.tiers.oltp.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [fx.world.tenant]))[0]!.n)

describe('legacy follow', () => {
  test('changes made during and after the migration flow in under the same ids; status shows the lag; verify is clean', async () => {
    const o = await options()
    await o.capture.install()
    await o.capture.install() // idempotent

    // During the migration: after batch 2's content, the application edits a row batch 1 already
    // migrated, adds an attachment to another, and inserts a row whose key sorts below the checkpoint.
    const below = fx.ids[1]!.replace(/.$/, (c) => (c === 'f' ? 'e' : 'f'))
    let batches = 0
    await migrateLegacy(sys.deps, {
      ...o,
      faults: {
        afterContentWrite: async () => {
          if (++batches !== 2) return
          await fx.src.db.query(`UPDATE legacy.emails SET subject = 'edited during', content_html = '<p>new body</p>', status = 'bounced' WHERE id = $1`, [fx.ids[0]])
          await fx.src.db.query(
            `INSERT INTO legacy.email_attachments (id, email_id, filename, mime_type, size_bytes, content) VALUES (gen_random_uuid(), $1, 'late.txt', 'text/plain', 4, '\\x6c617465')`,
            [fx.ids[2]],
          )
          await copyRow(fx.ids[1]!, below, 'inserted below the checkpoint')
        },
      },
    })
    // Verify sees what migrate alone left behind: two rows changed after their batch, one missing.
    const stale = (await verify()).batches.flatMap((b) => b.mismatches)
    expect(stale.map((m) => m.legacy_id).sort()).toEqual([fx.ids[0]!, below, fx.ids[2]!].sort())
    const before = await followStatus(sys.deps, o)
    expect(before).toMatchObject({ capture_installed: true, pending_changes: 3, not_migrated: 0, lag_rows: 3 })
    expect(before.lag_seconds).toBeGreaterThan(0)

    const cycle = await followOnce(sys.deps, o)
    expect(cycle).toEqual({ migrated: 0, inserted: 1, updated: 2, deleted: 0 })
    const edited = await getMessage(sys.deps, fx.world.tenant, fx.ids[0]!)
    expect(edited).toMatchObject({ id: fx.ids[0], subject: 'edited during', status: 'bounced' })
    expect(edited.content!.content_html).toBe('<p>new body</p>')
    expect((await getMessage(sys.deps, fx.world.tenant, fx.ids[2]!)).attachments.map((a) => a.filename)).toEqual(['late.txt'])
    expect((await getMessage(sys.deps, fx.world.tenant, below)).subject).toBe('inserted below the checkpoint')
    expect(await followStatus(sys.deps, o)).toMatchObject({ pending_changes: 0, not_migrated: 0, lag_rows: 0, lag_seconds: 0 })
    const report = await verify()
    expect(report.mismatches).toBe(0)
    expect(report.checked).toBe(N + 1)

    // After the migration: a new row past the checkpoint, an edit, a delete.
    const after = fx.ids[N - 1]!.replace(/^(.{8})/, (p) => (parseInt(p, 16) + 1).toString(16).padStart(8, '0'))
    await copyRow(fx.ids[5]!, after, 'inserted after')
    await fx.src.db.query(`UPDATE legacy.emails SET to_email = 'john@example.com' WHERE id = $1`, [fx.ids[6]])
    await fx.src.db.query(`DELETE FROM legacy.emails WHERE id = $1`, [fx.ids[8]])
    expect(await followStatus(sys.deps, o)).toMatchObject({ pending_changes: 3, lag_rows: 3 })
    // Applying the same changes twice (a crash before their capture rows were deleted) changes nothing more.
    const pending = await o.capture.pending(100)
    expect(await followOnce(sys.deps, o)).toEqual({ migrated: 1, inserted: 0, updated: 2, deleted: 1 })
    await fx.src.db.query(`INSERT INTO ${o.capture.names.table} (legacy_id) SELECT unnest($1::text[])`, [pending.map((p) => p.legacy_id)])
    expect(await followOnce(sys.deps, o)).toEqual({ migrated: 0, inserted: 0, updated: 2, deleted: 0 })
    expect(await followStatus(sys.deps, o)).toMatchObject({ lag_rows: 0 })
    expect((await getMessage(sys.deps, fx.world.tenant, fx.ids[6]!)).to_email).toBe('john@example.com')
    expect((await getMessage(sys.deps, fx.world.tenant, after)).subject).toBe('inserted after')
    await expect(getMessage(sys.deps, fx.world.tenant, fx.ids[8]!)).rejects.toMatchObject({ code: 'not_found' })
    expect(await refCount()).toBe(N + 1)
    expect((await verify()).mismatches).toBe(0)

    await o.capture.uninstall()
    expect(await o.capture.installed()).toBe(false)
    const [trigger] = await fx.src.db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_trigger WHERE tgname = 'edp_capture'`)
    expect(Number(trigger!.n)).toBe(0)
    await rollbackLegacy(sys.deps)
    expect(await refCount()).toBe(0)
  }, 120_000)
})
