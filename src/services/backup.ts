/**
 * Backup sets and their restore (`npm run backup`, `npm run restore`, the scheduled backup job).
 *
 * A set is a directory: one file per distinct database (tiers sharing a database are one file),
 * and manifest.json, written last, so a set without a manifest is incomplete and never restored.
 * - Embedded PGlite: one tarball of the whole data directory from the running instance
 *   (dumpDataDir), consistent across the four tiers since they are one database.
 * - PostgreSQL: `pg_dump --format=custom` per database, in the order OLTP, content, analytics,
 *   queue. Content is written before its ref commits, so every ref in the OLTP dump already has
 *   its content when the content dump starts: a restored ref always has its content (invariant 1).
 *   What changes between two dumps: content collected as orphan was never referenced by a dumped
 *   ref; content that expires in between leaves its tombstone row, so the ref answers 410 as it
 *   would have; content of messages written after the OLTP dump is restored as an orphan and
 *   collected after the grace. The queue goes last, so a job enqueued during the backup is in it
 *   and runs after a restore; jobs and events are idempotent, so one that had already run changes
 *   nothing. A message written during the backup can therefore be counted in analytics while its
 *   ref is not in the set; `npm run doctor` does not count that as a violation.
 * Passwords never reach argv or the manifest: pg_dump and pg_restore get them through PGPASSWORD.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { Config } from '../config.ts'
import type { Deps } from '../deps.ts'
import { openPglite } from '../db/pglite.ts'
import { redactUrl } from '../db/postgres.ts'
import type { TierName } from '../db/tier-names.ts'
import { databasesOf, tierUrl, type Tiers } from '../db/tiers.ts'
import type { Db } from '../db/types.ts'
import { pgliteDataDir } from '../data-dir.ts'

export const MANIFEST = 'manifest.json'

export interface BackupFile {
  /** The tiers this file holds (several when they share a database). */
  tiers: TierName[]
  file: string
  engine: 'pglite' | 'postgres'
  /** The database's label (its URL without the password, or PGlite's directory): never a password. */
  source: string
  bytes: number
  sha256: string
  /** Each tier's applied migrations (edp_meta.migrations), in order. */
  migrations: Record<string, string[]>
  started_at: string
  finished_at: string
}

export interface Manifest {
  format: 1
  created_at: string
  finished_at: string
  files: BackupFile[]
  tools: Record<string, string>
}

/** The URL without its password, and the password for PGPASSWORD. */
function splitPassword(url: string): { url: string; password: string | undefined } {
  const u = new URL(url)
  const password = u.password ? decodeURIComponent(u.password) : undefined
  u.password = ''
  return { url: u.toString(), password }
}

async function migrationsOf(db: Db, tiers: TierName[]): Promise<Record<string, string[]>> {
  const rows = await db.query<{ tier: string; tag: string }>(
    `SELECT tier, tag FROM edp_meta.migrations WHERE tier = ANY($1::text[]) ORDER BY tier, tag`,
    [tiers],
  )
  return Object.fromEntries(tiers.map((t) => [t, rows.filter((r) => r.tier === t).map((r) => r.tag)]))
}

const execFileAsync = promisify(execFile)

async function run(cmd: string[], env: Record<string, string | undefined> = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (err) {
    const e = err as { code?: number | string; stderr?: string }
    throw new Error(`${cmd[0]} failed (${e.code}): ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' ')}`)
  }
}

/** Streamed: a dump is gigabytes at a million messages, more than a process should hold at once. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

export async function toolVersions(): Promise<Record<string, string>> {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
  const versions: Record<string, string> = { app: pkg.version, runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.version}` }
  for (const tool of ['pg_dump', 'pg_restore']) {
    versions[tool] = (await run([tool, '--version']).catch(() => 'not found')).trim()
  }
  return versions
}

/** Takes a backup set into `dir` (created; must not hold a set already). */
export async function takeBackup(config: Config, tiers: Tiers, dir: string, now: () => number = Date.now): Promise<Manifest> {
  const iso = () => new Date(now()).toISOString()
  await mkdir(dir, { recursive: true, mode: 0o700 })
  if ((await readdir(dir)).length > 0) throw new Error(`${dir} is not empty; a backup set goes into a new directory`)
  const created = iso()
  const files: BackupFile[] = []
  for (const g of databasesOf(tiers)) {
    const started = iso()
    const migrations = await migrationsOf(g.db, g.tiers)
    let file: string
    if (g.db.engine === 'pglite') {
      if (!g.db.dumpDataDir) throw new Error(`${g.db.label} cannot dump its data directory`)
      file = 'embedded.tar.gz'
      await writeFile(join(dir, file), new Uint8Array(await (await g.db.dumpDataDir()).arrayBuffer()), { mode: 0o600 })
    } else {
      const url = tierUrl(config, g.tiers[0]!)
      if (!url) throw new Error(`no URL for the ${g.tiers[0]} tier`)
      file = `${g.tiers.join('+')}.dump`
      const { url: bare, password } = splitPassword(url)
      await run(['pg_dump', '--format=custom', '--no-owner', '--no-privileges', `--file=${join(dir, file)}`, `--dbname=${bare}`], { PGPASSWORD: password })
    }
    const path = join(dir, file)
    files.push({ tiers: g.tiers, file, engine: g.db.engine, source: g.db.label, bytes: (await stat(path)).size, sha256: await sha256File(path), migrations, started_at: started, finished_at: iso() })
  }
  const manifest: Manifest = { format: 1, created_at: created, finished_at: iso(), files, tools: await toolVersions() }
  // Written last, through a rename: a set is complete exactly when its manifest exists.
  await writeFile(join(dir, `${MANIFEST}.tmp`), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 })
  await rename(join(dir, `${MANIFEST}.tmp`), join(dir, MANIFEST))
  return manifest
}

export async function readManifest(dir: string): Promise<Manifest> {
  let text: string
  try {
    text = await readFile(join(dir, MANIFEST), 'utf8')
  } catch {
    throw new Error(`${dir} holds no ${MANIFEST}: not a backup set, or an incomplete one`)
  }
  const m = JSON.parse(text) as Manifest
  if (m.format !== 1 || !Array.isArray(m.files)) throw new Error(`${join(dir, MANIFEST)} is not a manifest this version reads`)
  for (const f of m.files) {
    const actual = await sha256File(join(dir, f.file)).catch(() => 'missing')
    if (actual !== f.sha256) throw new Error(`${f.file} does not match the manifest (sha256 ${actual}): the set is damaged`)
  }
  return m
}

/** Tables of ours or pgmq's in a PostgreSQL database: a restore target must have none unless forced. */
async function tablesIn(url: string): Promise<number> {
  const { url: bare, password } = splitPassword(url)
  const out = await run(
    ['psql', '--no-psqlrc', '--tuples-only', '--no-align', `--dbname=${bare}`, '--command',
      `SELECT count(*) FROM pg_tables WHERE schemaname IN ('oltp', 'content', 'analytics', 'queue', 'pgmq', 'edp_meta')`],
    { PGPASSWORD: password },
  )
  return Number(out.trim())
}

export interface RestoreTarget {
  config: Config
  force?: boolean
}

/**
 * Restores a set into the databases the config names (or a fresh DATA_DIR). Each target must be
 * empty unless `force`: a PostgreSQL target is then cleaned object by object by pg_restore, an
 * existing PGlite directory moved aside to `<dir>.replaced-<time>`, never deleted.
 */
export async function restoreBackup(dir: string, { config, force = false }: RestoreTarget): Promise<Manifest> {
  const manifest = await readManifest(dir)
  // Check every target before touching any.
  for (const f of manifest.files) {
    for (const tier of f.tiers) {
      const url = tierUrl(config, tier)
      if ((f.engine === 'postgres') !== Boolean(url)) {
        throw new Error(`the set holds the ${tier} tier as ${f.engine}, but the configuration ${url ? 'names a URL' : 'names no URL'} for it`)
      }
    }
    const url = tierUrl(config, f.tiers[0]!)
    if (url && !force && (await tablesIn(url)) > 0) {
      throw new Error(`${redactUrl(url)} (${f.tiers.join(', ')}) is not empty; restore into an empty database, or pass --force`)
    }
    if (!url && !force && (await readdir(join(config.DATA_DIR, 'pglite')).catch(() => [])).length > 0) {
      throw new Error(`${join(config.DATA_DIR, 'pglite')} is not empty; restore into a fresh DATA_DIR, or pass --force`)
    }
  }
  for (const f of manifest.files) {
    const url = tierUrl(config, f.tiers[0]!)
    if (url) {
      const { url: bare, password } = splitPassword(url)
      await run(
        ['pg_restore', '--no-owner', '--no-privileges', '--exit-on-error', ...(force ? ['--clean', '--if-exists'] : []), `--dbname=${bare}`, join(dir, f.file)],
        { PGPASSWORD: password },
      )
    } else {
      const target = join(config.DATA_DIR, 'pglite')
      if ((await readdir(target).catch(() => [])).length > 0) await rename(target, `${target}.replaced-${Date.now()}`)
      const pg = await openPglite({ dataDir: await pgliteDataDir(config.DATA_DIR), loadDataDir: new Blob([await readFile(join(dir, f.file))]) })
      await pg.close()
    }
  }
  return manifest
}

const SET_PREFIX = 'set-'

/** The sets in a backup directory, newest first (the first `limit`), with when each finished: null while incomplete. */
export async function backupSets(root: string, limit = Number.POSITIVE_INFINITY): Promise<{ dir: string; finished_at: string | null }[]> {
  const names = (await readdir(root).catch(() => [] as string[])).filter((n) => n.startsWith(SET_PREFIX)).sort().reverse().slice(0, limit)
  return Promise.all(
    names.map(async (n) => {
      const text = await readFile(join(root, n, MANIFEST), 'utf8').catch(() => null)
      return { dir: join(root, n), finished_at: text ? (JSON.parse(text) as Manifest).finished_at : null }
    }),
  )
}

/** Seconds since the newest complete set in BACKUP_DIR finished; null without one (or without BACKUP_DIR). */
export async function newestBackupAge(config: Pick<Config, 'BACKUP_DIR'>, now: number): Promise<number | null> {
  if (!config.BACKUP_DIR) return null
  const newest = (await backupSets(config.BACKUP_DIR)).find((s) => s.finished_at !== null)
  return newest ? Math.max(0, (now - Date.parse(newest.finished_at!)) / 1000) : null
}

/**
 * The scheduled backup: a set named by its start time into BACKUP_DIR, then the complete sets
 * beyond the newest BACKUP_KEEP removed, and so are incomplete ones older than two intervals (an
 * attempt that died).
 */
export async function scheduledBackup(deps: Deps): Promise<{ dir: string; manifest: Manifest; removed: string[] }> {
  const { config } = deps
  if (!config.BACKUP_DIR) throw new Error('BACKUP_DIR is not set')
  await mkdir(config.BACKUP_DIR, { recursive: true, mode: 0o700 })
  const dir = join(config.BACKUP_DIR, `${SET_PREFIX}${new Date(deps.clock.now()).toISOString().replaceAll(':', '-')}`)
  const manifest = await takeBackup(config, deps.tiers, dir, () => deps.clock.now())
  const removed: string[] = []
  const sets = await backupSets(config.BACKUP_DIR)
  const complete = sets.filter((s) => s.finished_at !== null)
  const staleBefore = deps.clock.now() - 2 * config.BACKUP_INTERVAL_MIN * 60_000
  for (const s of [...complete.slice(config.BACKUP_KEEP), ...sets.filter((s) => s.finished_at === null && s.dir !== dir)]) {
    if (s.finished_at === null && (await stat(s.dir)).mtimeMs > staleBefore) continue
    await rm(s.dir, { recursive: true, force: true })
    removed.push(s.dir)
  }
  return { dir, manifest, removed }
}
