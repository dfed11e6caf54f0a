/**
 * Backup and restore of the benchmark dataset (every tier in one database, as `npm run gen` loads
 * it; the legacy table rides along in both columns): our backup set (pg_dump, then sha256 and the
 * manifest) against a bare `pg_dump -Fc` of the same database, and our restore (manifest check,
 * pg_restore, then the doctor's full check of refs, orphans, blobs and a recount sample) against a
 * bare pg_restore into an empty database. Durations in seconds, one run each: they are minutes
 * at a million messages.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loadConfig } from '../../src/config.ts'
import { openTiers } from '../../src/db/tiers.ts'
import { postgresDb } from '../../src/db/postgres.ts'
import { restoreBackup, takeBackup } from '../../src/services/backup.ts'
import { runDoctor } from '../../src/services/doctor.ts'
import { buildDeps } from '../../src/system.ts'
import { dropDataset, ensureDataset } from '../dataset/load.ts'
import { BENCH_PG_URL, databaseUrl } from '../lib/pg.ts'
import type { Row, Section } from '../lib/report.ts'
import { round } from '../lib/stats.ts'
import { DATASETS } from './oltp.ts'

const exec = promisify(execFile)
const TIERS = ['OLTP', 'CONTENT', 'ANALYTICS', 'QUEUE'] as const

const configFor = (database: string) =>
  loadConfig({
    ...Object.fromEntries(TIERS.map((t) => [`${t}_DATABASE_URL`, databaseUrl(database)])),
    LOG_LEVEL: 'silent',
    ADMIN_TOKEN: 'bench-backup-restore-token',
    // The key the benchmark servers seal with (bench/lib/server.ts): the doctor opens every data key with it.
    CONTENT_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
  })

async function seconds<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now()
  const out = await fn()
  return [out, round((performance.now() - started) / 1000, 1)]
}

async function freshDatabase(name: string) {
  const admin = postgresDb(BENCH_PG_URL, { max: 1 })
  try {
    await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    await admin.exec(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.close()
  }
}

async function dropDatabase(name: string) {
  const admin = postgresDb(BENCH_PG_URL, { max: 1 })
  try {
    await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
  } finally {
    await admin.close()
  }
}

export async function benchBackup({ quick = false } = {}): Promise<Section> {
  const { options, database } = quick ? DATASETS.quick : DATASETS.full
  const info = await ensureDataset(options, database)
  const dir = await mkdtemp(join(tmpdir(), 'edp-bench-backup-'))
  const ours = 'edp_bench_restore_ours'
  const raw = 'edp_bench_restore_raw'
  const rows: Row[] = []
  try {
    // One side at a time, each set and copy removed before the next: at a million messages a dump
    // and a restored copy are tens of GB, and the disk holds the dataset already.
    const source = configFor(database)
    const tiers = await openTiers(source, 'edp-bench')
    const [manifest, backupS] = await seconds(async () => {
      try {
        return await takeBackup(source, tiers, join(dir, 'set'))
      } finally {
        await tiers.close()
      }
    })
    const setBytes = manifest.files.reduce((n, f) => n + f.bytes, 0)
    await freshDatabase(ours)
    const target = configFor(ours)
    const [, restoreS] = await seconds(() => restoreBackup(join(dir, 'set'), { config: target }))
    const [report, doctorS] = await seconds(async () => {
      const restored = await openTiers(target, 'edp-bench')
      try {
        return await runDoctor(buildDeps(restored, { config: target }), { sample: 200 })
      } finally {
        await restored.close()
      }
    })
    await dropDatabase(ours)
    await rm(join(dir, 'set'), { recursive: true, force: true })

    const [, rawBackupS] = await seconds(() => exec('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${join(dir, 'raw.dump')}`, `--dbname=${databaseUrl(database)}`]))
    const rawBytes = (await stat(join(dir, 'raw.dump'))).size
    await freshDatabase(raw)
    const [, rawRestoreS] = await seconds(() => exec('pg_restore', ['--no-owner', '--no-privileges', '--exit-on-error', `--dbname=${databaseUrl(raw)}`, join(dir, 'raw.dump')]))
    await dropDatabase(raw)

    const mb = (b: number) => `${round(b / 2 ** 20, 1)} MB`
    const msgs = `${info.options.messages.toLocaleString('en')} messages`
    rows.push(
      {
        benchmark: 'backup',
        case: `${msgs}, every tier in one database`,
        ours: `${backupS} s (${mb(setBytes)}, sha256 and manifest included)`,
        baseline: `pg_dump -Fc ${rawBackupS} s (${mb(rawBytes)})`,
        ratio: round(rawBackupS / backupS, 2),
      },
      {
        benchmark: 'restore',
        case: `${msgs}, into an empty database`,
        ours: `${restoreS} s, then doctor ${doctorS} s (${report.ok ? 'clean' : 'violations'})`,
        baseline: `pg_restore ${rawRestoreS} s`,
        ratio: round(rawRestoreS / restoreS, 2),
        note: 'the doctor reads every ref and every old content key; its recount samples 200 keys',
      },
    )
    return {
      name: 'backup',
      rows,
      data: { dataset: info, backup_s: backupS, raw_backup_s: rawBackupS, set_bytes: setBytes, raw_bytes: rawBytes, restore_s: restoreS, raw_restore_s: rawRestoreS, doctor_s: doctorS, doctor: report },
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
    await dropDatabase(ours)
    await dropDatabase(raw)
    if (quick) await dropDataset(database)
  }
}
