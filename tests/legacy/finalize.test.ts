/**
 * `legacy finalize`: refused while verify finds a mismatch or follow has lag, each time naming
 * why and changing nothing; then the capture stops, the legacy tables are renamed to their
 * archive names with every row in them, and the audit log has the act.
 */
import { describe, expect, test } from 'bun:test'
import { Capture } from '../../src/legacy/capture.ts'
import { checkMapping, LegacyReader } from '../../src/legacy/source.ts'
import { archiveSuffix, finalizeLegacy } from '../../src/services/legacy/finalize.ts'
import { followOnce } from '../../src/services/legacy/follow.ts'
import { migrateLegacy } from '../../src/services/legacy/migrate.ts'
import { legacyRun } from '../../src/services/legacy/verify.ts'
import { useShapeA } from './support.ts'

const N = 9

const fx = useShapeA(N)
const { sys, mapping } = fx


async function reader() {
  return new LegacyReader(fx.src.db, mapping, await checkMapping(fx.src.db, mapping))
}
const finalize = async () => finalizeLegacy(sys.deps, { reader: await reader(), run: await legacyRun(sys.deps, 'z'), capture: new Capture(fx.src.db, mapping) })
const exists = async (table: string) => (await fx.src.db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [table]))[0]!.ok
const auditRows = () =>
  sys.tiers.oltp.query<{ outcome: string; actor: string; target_id: string; detail: Record<string, unknown> }>(
    `SELECT outcome, actor, target_id, detail FROM oltp.audit_log WHERE action = 'legacy.finalize' ORDER BY id`,
  )

describe('legacy finalize', () => {
  test('refused on a mismatch or on lag, naming why; then capture stops, the tables are archived, the act is audited', async () => {
    const capture = new Capture(fx.src.db, mapping)
    await capture.install()
    await migrateLegacy(sys.deps, { reader: await reader(), run: 'z', source: 'test', tenant: null, batchSize: 4, rate: 0 })

    // A mismatch verify finds (our side changed behind the migration's back), with no lag.
    await sys.tiers.oltp.query(`UPDATE oltp.inbox_message_refs SET subject = 'tampered' WHERE id = $1`, [fx.ids[4]])
    await expect(finalize()).rejects.toMatchObject({ code: 'conflict', detail: expect.stringContaining(`verify found 1 mismatched rows (legacy ids ${fx.ids[4]}`) })
    await sys.tiers.oltp.query(`UPDATE oltp.inbox_message_refs SET subject = 'hello 4' WHERE id = $1`, [fx.ids[4]])

    // Lag: the legacy application wrote a row that follow has not applied yet (verify is clean: it is past the checkpoint).
    const later = fx.ids[N - 1]!.replace(/^(.{8})/, (p) => (parseInt(p, 16) + 1).toString(16).padStart(8, '0'))
    await fx.src.db.query(
      `INSERT INTO legacy.emails SELECT $2::uuid, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, NULL, direction,
              message_type, from_email, to_email, 'later', status, NULL, content_text, content_html, headers, created + interval '1 day', updated
         FROM legacy.emails WHERE id = $1`,
      [fx.ids[0], later],
    )
    await expect(finalize()).rejects.toMatchObject({
      code: 'conflict',
      detail: 'follow lag is 1 rows (1 captured changes pending, 0 rows past the checkpoint); run legacy follow until status shows 0',
    })
    expect(await exists('legacy.emails')).toBe(true)
    expect(await capture.installed()).toBe(true)
    expect(await auditRows()).toEqual([])

    await followOnce(sys.deps, { reader: await reader(), run: 'z', source: 'test', tenant: null, batchSize: 4, rate: 0, capture })
    const done = await finalize()
    const suffix = archiveSuffix(new Date(sys.deps.clock.now()))
    expect(done).toEqual({
      run: 'z',
      rows: N + 1,
      archived: { table: `legacy.emails${suffix}`, attachments: `legacy.email_attachments${suffix}` },
      capture_was_installed: true,
    })
    expect(await exists('legacy.emails')).toBe(false)
    expect(await exists('legacy.email_attachments')).toBe(false)
    expect(await capture.installed()).toBe(false)
    const [archived] = await fx.src.db.query<{ n: string }>(`SELECT count(*) AS n FROM legacy."emails${suffix}"`)
    expect(Number(archived!.n)).toBe(N + 1)
    const [triggers] = await fx.src.db.query<{ n: string }>(`SELECT count(*) AS n FROM pg_trigger WHERE tgname = 'edp_capture'`)
    expect(Number(triggers!.n)).toBe(0)
    const audit = await auditRows()
    expect(audit.map((a) => [a.outcome, a.actor, a.target_id])).toEqual([
      ['started', 'admin', 'z'],
      ['succeeded', 'admin', 'z'],
    ])
    expect(audit[1]!.detail).toMatchObject({ table: 'legacy.emails', rows: N + 1, archived_as: `legacy.emails${suffix}` })

    // Nothing left to finalize: the table is gone, said as such.
    await expect(finalize()).rejects.toThrow('the legacy source has no table legacy.emails')
  }, 120_000)
})
