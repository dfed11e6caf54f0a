/**
 * Point-in-time recovery with pgBackRest, as the README sets it up: a throwaway PostgreSQL
 * instance (its own port and directory; the shared server is never touched) holding the four tier
 * databases, WAL archived by pgBackRest. Write, back up, write more, note the time, write again;
 * restore to that time: the doctor is clean, what was written before the time reads back, what
 * came after is gone. Runs in the PostgreSQL pass (it needs pgbackrest and initdb, which CI installs).
 */
import { afterAll, describe, expect, test } from 'bun:test'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { engine } from '../support/databases.ts'
import { useLeakCheck } from '../support/leaks.ts'
import { asPostgres, giveToPostgres } from '../../scripts/lib/pg-node.ts'
import { startPgInstance, type PgInstance } from '../support/pg-instance.ts'
import { makeDeps, testConfig } from '../support/system.ts'
import { createApp } from '../../src/http/app.ts'
import { migrateAll } from '../../src/db/migrate.ts'
import { openTiers, type Tiers } from '../../src/db/tiers.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { runDoctor } from '../../src/services/doctor.ts'
import { ADMIN_TOKEN } from '../support/system.ts'

useLeakCheck()

const STANZA = 'edp'
let pg: PgInstance | undefined
let conf: string | undefined
afterAll(async () => {
  await pg?.destroy()
  if (conf) await rm(conf, { force: true })
})

/** The pgBackRest configuration the README documents, with this instance's paths. */
function pgbackrestConf(p: PgInstance) {
  return [
    '[global]',
    `repo1-path=${join(p.root, 'repo')}`,
    'repo1-retention-full=2',
    `log-path=${join(p.root, 'log')}`,
    `lock-path=${join(p.root, 'lock')}`,
    'log-level-console=warn',
    'start-fast=y',
    'archive-async=n',
    '',
    `[${STANZA}]`,
    `pg1-path=${p.dataDir}`,
    `pg1-port=${p.port}`,
    `pg1-socket-path=${p.root}`,
    '',
  ].join('\n')
}

const TIERS = ['oltp', 'content', 'analytics', 'queue'] as const

async function open(p: PgInstance): Promise<Tiers> {
  const config = testConfig(Object.fromEntries(TIERS.map((t) => [`${t.toUpperCase()}_DATABASE_URL`, p.url(`edp_${t}`)])))
  return openTiers(config, 'edp-pitr')
}

describe('point-in-time recovery with pgBackRest', () => {
  test.skipIf(engine !== 'postgres')(
    'restored to a moment between two writes: the first is there, the second is not, and the doctor is clean',
    async () => {
      conf = join(tmpdir(), `edp-pgbackrest-${process.pid}.conf`)
      pg = await startPgInstance({
        wal_level: 'replica',
        archive_mode: 'on',
        archive_command: `'pgbackrest --config=${conf!} --stanza=${STANZA} archive-push %p'`,
        archive_timeout: '5',
        max_wal_senders: '3',
      })
      for (const dir of ['repo', 'log', 'lock']) {
        await mkdir(join(pg.root, dir), { recursive: true })
        await giveToPostgres(join(pg.root, dir))
      }
      await writeFile(conf, pgbackrestConf(pg))
      // The postgres user reads it (archive_command runs as the server); a test before this one may have set umask 077.
      await giveToPostgres(conf)
      const admin = postgresDb(pg.url('postgres'), { max: 1 })
      for (const t of TIERS) await admin.exec(`CREATE DATABASE edp_${t}`)
      await admin.close()

      let tiers = await open(pg)
      const conf2 = { config: testConfig() }
      try {
        await migrateAll(tiers)
        const app = createApp(makeDeps(tiers, conf2))
        const call = async (method: string, path: string, token: string, body?: unknown) => {
          const res = await app.request(path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) })
          return { status: res.status, body: (await res.json()) as any }
        }
        const tenant = await call('POST', '/v1/tenants', ADMIN_TOKEN, { name: 'pitr' })
        const key = tenant.body.api_key as string
        const account = await call('POST', '/v1/email-accounts', key, { email_address: 'sales@pitr.test' })
        const send = async (subject: string) => {
          const m = await call('POST', '/v1/messages', key, { email_account_id: account.body.id, from_email: 'sales@pitr.test', to_email: 'lead@example.com', subject, content_text: `body of ${subject}` })
          expect(m.status).toBe(201)
          return m.body.id as string
        }
        const beforeBackup = await send('before the backup')

        await asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, 'stanza-create'])
        await asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, '--type=full', 'backup'])

        const afterBackup = await send('after the backup, before the target')
        // The target: a moment after that write committed and before the next one.
        await Bun.sleep(1100)
        const [{ target }] = (await tiers.oltp.query<{ target: string }>(`SELECT to_char(clock_timestamp(), 'YYYY-MM-DD HH24:MI:SS.US+00') AS target`)) as [{ target: string }]
        await Bun.sleep(1100)
        const afterTarget = await send('after the target')
        // Make sure the WAL holding all of it reaches the archive.
        await asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, 'check'])
        await tiers.close()

        await pg.stop()
        await asPostgres('pgbackrest', [`--config=${conf}`, `--stanza=${STANZA}`, '--delta', '--type=time', `--target=${target}`, '--target-action=promote', 'restore'])
        await pg.start()
        const probe = postgresDb(pg.url('postgres'), { max: 1 })
        for (let i = 0; i < 60; i++) {
          const [row] = await probe.query<{ r: boolean }>(`SELECT pg_is_in_recovery() AS r`)
          if (!row!.r) break
          await Bun.sleep(500)
        }
        await probe.close()

        tiers = await open(pg)
        const deps = makeDeps(tiers, conf2)
        const report = await runDoctor(deps, { full: true })
        expect(report.checks.filter((c) => c.violations > 0)).toEqual([])
        const restored = createApp(deps)
        const read = async (id: string) => (await restored.request(`/v1/messages/${id}/content`, { headers: { authorization: `Bearer ${key}` } })).status
        expect({ beforeBackup: await read(beforeBackup), afterBackup: await read(afterBackup), afterTarget: await read(afterTarget) }).toEqual({
          beforeBackup: 200,
          afterBackup: 200,
          afterTarget: 404,
        })
      } finally {
        await tiers.close()
      }
    },
    180_000,
  )
})
