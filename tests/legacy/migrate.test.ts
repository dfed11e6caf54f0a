/**
 * The migration in-process, our side on the test engine (PGlite, or four PostgreSQL databases with
 * TEST_PG_URL) and the legacy side a real PostgreSQL database in the benchmark's shape: batches
 * land verified, a re-run writes nothing, a crash between a batch's two commits resumes cleanly,
 * verify names what differs, retention counts from the original date, rollback keeps API mail.
 */
import { describe, expect, test } from 'bun:test'
import type { Deps } from '../../src/deps.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { migrateLegacy, type MigrateOptions } from '../../src/services/legacy/migrate.ts'
import { rollbackLegacy } from '../../src/services/legacy/rollback.ts'
import { legacyRun, verifyLegacy } from '../../src/services/legacy/verify.ts'
import { createMessage, getMessage, getMessageThread } from '../../src/services/messages.ts'
import { expireDue } from '../../src/services/retention.ts'
import { rowCounts } from '../support/databases.ts'
import { createWorld, seedShapeA, useShapeA } from './support.ts'

const N = 23

const fx = useShapeA(N)
const { sys, mapping } = fx


async function migrate(o: Partial<MigrateOptions> = {}, deps: Deps = sys.deps) {
  const reader = new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
  return migrateLegacy(deps, { reader, run: 'a', source: 'test', tenant: null, batchSize: 5, rate: 0, ...o })
}

async function verify(sample?: number) {
  const reader = new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
  return verifyLegacy(sys.deps, { reader, run: await legacyRun(sys.deps, 'a'), sample })
}

const legacyChecksum = async () =>
  (await fx.src.db.query<{ sum: string }>(`SELECT md5(string_agg(e::text, ',' ORDER BY id)) AS sum FROM legacy.emails e`))[0]!.sum

// One story in order (each step builds on the last), so it is one test: `--randomize` shuffles tests.
describe('legacy migrate', () => {
  test('a crash mid-batch resumes cleanly; migrated mail reads like any other; a re-run writes nothing; verify names what differs; rollback keeps API mail; retention counts from the original date', async () => {
    // a crash between a batch’s content and its refs: the re-run resumes, nothing duplicated or missing
    {
      let batches = 0
      const crash = async () => {
        if (++batches === 3) throw new Error('killed between the two commits')
      }
      await expect(migrate({ faults: { afterContentWrite: crash } })).rejects.toThrow('killed between the two commits')
      const [partial] = await sys.tiers.oltp.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.inbox_message_refs WHERE tenant_id = $1`, [fx.world.tenant])
      expect(Number(partial!.n)).toBe(10) // two batches of five committed, the third's content left behind

      const [{ t0 }] = (await sys.tiers.oltp.query<{ t0: Date }>(`SELECT now() AS t0`)) as [{ t0: Date }]
      const summary = await migrate()
      expect(summary).toMatchObject({ rows: N - 10, total_rows: N, batches: 5, expired: 0 })
      // The tables it grows got fresh statistics as they doubled (plans made while empty are not kept).
      for (const [db, table] of [[sys.tiers.oltp, 'inbox_message_refs'], [sys.tiers.content, 'content_objects']] as const) {
        const [stats] = await db.query<{ last_analyze: Date | null }>(`SELECT last_analyze FROM pg_stat_user_tables WHERE relname = $1`, [table])
        expect(stats!.last_analyze!.getTime()).toBeGreaterThanOrEqual(t0.getTime())
      }
      const refs = await sys.tiers.oltp.query<{ id: string }>(`SELECT id FROM oltp.inbox_message_refs WHERE tenant_id = $1 ORDER BY id`, [fx.world.tenant])
      expect(refs.map((r) => r.id)).toEqual([...fx.ids].sort())
      const [content] = await sys.tiers.content.query<{ n: string }>(`SELECT count(*) AS n FROM content.content_objects WHERE tenant_id = $1`, [fx.world.tenant])
      expect(Number(content!.n)).toBe(N)
      const report = await verify()
      expect(report.mismatches).toBe(0)
      expect(report.checked).toBe(N)
      expect(report.batches.map((b) => b.batch)).toEqual([1, 2, 3, 4, 5])
    }

    // migrated messages read like any other: bodies, headers, attachments, threads, original dates
    {
      const reply = await getMessage(sys.deps, fx.world.tenant, fx.ids[3]!)
      expect(reply.parent_message_id).toBe(fx.ids[2]!)
      expect(reply.direction).toBe('inbound')
      expect(reply.created.toISOString()).toBe((await fx.src.db.query<{ created: Date }>(`SELECT created FROM legacy.emails WHERE id = $1`, [fx.ids[3]]))[0]!.created.toISOString())
      expect(reply.content!.content_html).toContain('<p>Hi Jane, message 3.</p>')
      expect(reply.content!.headers).toEqual([
        { name: 'Message-ID', value: `<${fx.ids[3]}@legacy.test>` },
        { name: 'X-Legacy', value: '3' },
      ])
      const first = await getMessage(sys.deps, fx.world.tenant, fx.ids[0]!)
      expect(first.attachments.map((a) => a.filename)).toEqual(['scan-0.pdf'])
      expect((await getMessageThread(sys.deps, fx.world.tenant, fx.ids[3]!)).map((m) => m.id)).toEqual([fx.ids[2]!, fx.ids[3]!])
      // Content carries the original date once its ref exists, so archive and expiry count from it.
      const [row] = await sys.tiers.content.query<{ created: Date; expires: Date }>(
        `SELECT created, expires FROM content.content_objects WHERE storage_key = $1`,
        [reply.content_storage_key],
      )
      expect(row!.created.toISOString()).toBe(reply.created.toISOString())
      expect(row!.expires.getTime() - row!.created.getTime()).toBe(730 * 86_400_000)
    }

    // re-running a finished migration writes nothing
    {
      const before = await rowCounts(sys)
      const summary = await migrate({ batchSize: 3 })
      expect(summary).toMatchObject({ rows: 0, total_rows: N })
      expect(await rowCounts(sys)).toEqual(before)
    }

    // verify names the ids whose body byte or subject changed, per batch
    {
      const [original] = await fx.src.db.query<{ html: string }>(`SELECT content_html AS html FROM legacy.emails WHERE id = $1`, [fx.ids[17]])
      await fx.src.db.query(`UPDATE legacy.emails SET subject = subject || '!' WHERE id = $1`, [fx.ids[1]])
      // One byte of one body: a single character of the html flipped.
      await fx.src.db.query(`UPDATE legacy.emails SET content_html = overlay(content_html placing 'X' from 12 for 1) WHERE id = $1`, [fx.ids[17]])
      try {
        const report = await verify()
        expect(report.mismatches).toBe(2)
        const bad = report.batches.flatMap((b) => b.mismatches.map((m) => ({ batch: b.batch, ...m })))
        expect(bad).toEqual([
          { batch: 1, legacy_id: fx.ids[1]!, fields: ['subject'] },
          { batch: 4, legacy_id: fx.ids[17]!, fields: ['content_html'] },
        ])
        const batch1 = report.batches.find((b) => b.batch === 1)!
        expect(batch1.legacy_checksum).not.toBe(batch1.our_checksum)
        expect(report.batches.find((b) => b.batch === 2)!.legacy_checksum).toBe(report.batches.find((b) => b.batch === 2)!.our_checksum)
        // A sample covering every row finds the same two.
        expect((await verify(N)).mismatches).toBe(2)
      } finally {
        await fx.src.db.query(`UPDATE legacy.emails SET subject = left(subject, -1) WHERE id = $1`, [fx.ids[1]])
        await fx.src.db.query(`UPDATE legacy.emails SET content_html = $2 WHERE id = $1`, [fx.ids[17], original!.html])
      }
      expect((await verify()).mismatches).toBe(0)
    }

    // rollback removes every migrated message and keeps an API reply to one of them; the legacy table is untouched
    {
      const legacyBefore = await legacyChecksum()
      const apiReply = await createMessage(sys.deps, fx.world.tenant, {
        email_account_id: fx.world.account,
        from_email: fx.world.address,
        to_email: 'jane@example.com',
        subject: 'written through the API',
        content_text: 'kept',
        direction: 'outbound',
        message_type: 'email',
        parent_message_id: fx.ids[0]!,
      })
      const summary = await rollbackLegacy(sys.deps, { chunk: 7 })
      expect(summary).toEqual({ messages: N, runs_removed: ['a'] })
      const refs = await sys.tiers.oltp.query<{ id: string; parent_message_id: string | null }>(
        `SELECT id, parent_message_id FROM oltp.inbox_message_refs WHERE tenant_id = $1`,
        [fx.world.tenant],
      )
      expect(refs).toEqual([{ id: apiReply.id, parent_message_id: null }])
      expect((await getMessage(sys.deps, fx.world.tenant, apiReply.id)).content!.content_text).toBe('kept')
      const [content] = await sys.tiers.content.query<{ n: string }>(`SELECT count(*) AS n FROM content.content_objects WHERE tenant_id = $1`, [fx.world.tenant])
      expect(Number(content!.n)).toBe(1)
      const [blobs] = await sys.tiers.content.query<{ n: string }>(`SELECT count(*) AS n FROM content.attachment_blobs WHERE tenant_id = $1`, [fx.world.tenant])
      expect(Number(blobs!.n)).toBe(0)
      const [map] = await sys.tiers.oltp.query<{ n: string }>(`SELECT count(*) AS n FROM oltp.legacy_ids`)
      expect(Number(map!.n)).toBe(0)
      expect(await legacyChecksum()).toBe(legacyBefore)
    }

    // retention counts from the original date: three-year-old mail under a two-year policy arrives expired
    {
      const old = await createWorld(sys.deps, 'old')
      await seedShapeA(fx.src, old, 6, Date.now() - 3 * 365 * 86_400_000)
      const summary = await migrate({ run: 'a', batchSize: 4 })
      expect(summary.rows).toBe(N + 6)
      expect(summary.expired).toBe(6)
      expect(summary.total_expired).toBe(6)
      // The next expiry run drops their bodies; verify compares their metadata only and stays clean.
      await expireDue(sys.deps, 500)
      const [expired] = await sys.tiers.oltp.query<{ n: string }>(
        `SELECT count(*) AS n FROM oltp.inbox_message_refs WHERE tenant_id = $1 AND content_state = 'expired'`,
        [old.tenant],
      )
      expect(Number(expired!.n)).toBe(6)
      expect((await verify()).mismatches).toBe(0)
      await rollbackLegacy(sys.deps)
    }
  }, 120_000)
})
