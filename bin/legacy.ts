/**
 * `npm run legacy -- <verb>`: move a legacy `emails` table into the four tiers (README, "Legacy
 * migration"). Checks come before writes: the mapping, the source and its columns are checked
 * before our tiers are even opened, so a bad one is one message and nothing is written.
 */
import { randomBytes } from 'node:crypto'
import pino from 'pino'
import { commandLine, exitOnError, intOption, UsageError, type Cli } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import type { Db } from '../src/db/types.ts'
import { AppError, invalid } from '../src/errors.ts'
import { loadMapping, type Mapping } from '../src/legacy/mapping.ts'
import { Capture } from '../src/legacy/capture.ts'
import { compareText, migrateText, planText, statusText, verifyText } from '../src/legacy/print.ts'
import { progress } from '../src/legacy/progress.ts'
import { checkMapping, LegacyReader, openSource, sourceLabel } from '../src/legacy/source.ts'
import { createApp } from '../src/http/app.ts'
import { authenticate } from '../src/services/api-keys.ts'
import { compareLegacy } from '../src/services/legacy/compare.ts'
import { finalizeLegacy } from '../src/services/legacy/finalize.ts'
import { followOnce, followStatus, type FollowOptions } from '../src/services/legacy/follow.ts'
import { migrateLegacy } from '../src/services/legacy/migrate.ts'
import { enqueueLegacyBatches, waitForBatches } from '../src/services/legacy/queue.ts'
import { sleep } from '../src/runtime.ts'
import { planLegacy } from '../src/services/legacy/plan.ts'
import { rollbackLegacy } from '../src/services/legacy/rollback.ts'
import { legacyRun, verifyLegacy } from '../src/services/legacy/verify.ts'
import { createLogger, openSystem, type System } from '../src/system.ts'

const DEFAULT_BATCH = 200
/**
 * Messages a second by default, so the live API keeps a share of the cores: with it, the API's
 * listing p99 during a migration was 2.06x its idle p99 on the 1M set and 1.6-2.7x on 8,000
 * messages (npm run bench -- --only legacy [--large]; the issue's bound is 2x; p50 unchanged),
 * on 2 cores that an unthrottled migration keeps 85% busy at 1,350/s.
 */
const DEFAULT_RATE = 250

const SOURCE = `  --source URL      the legacy PostgreSQL database (default: $LEGACY_SOURCE_URL)`
const HELP: Record<string, string> = {
  '': `usage: npm run legacy -- <verb> [options]

  plan       inspect the legacy table; print the mapping, counts, what will not map, a duration
  migrate    copy it into the content and OLTP tiers in resumable, checkpointed batches
  follow     the parallel run: keep new and changed legacy rows flowing in (change-capture trigger)
  status     how far behind the legacy table the run is, in rows and seconds
  verify     compare migrated messages with their legacy rows; exit 1 on any mismatch
  compare    read N random migrated messages through our API and the legacy table; exit 1 on any difference
  finalize   after a clean verify with no follow lag: stop capture, archive the legacy table, audit it
  rollback   remove everything migrations created; API-written messages and the legacy table stay

npm run legacy -- <verb> --help shows a verb's options.`,
  plan: `usage: npm run legacy -- plan --source URL [--table emails] [--mapping FILE] [--tenant ID] [--rate N] [--run NAME]
Writes nothing.
${SOURCE}
  --table NAME      the legacy table, schema.table allowed (default: the mapping's, else emails)
  --mapping FILE    JSON mapping (README, "Legacy migration"); default: the benchmark's legacy shape
  --tenant ID       the tenant of a single-tenant source; with a tenant column, only that tenant's rows
  --rate N          the --rate the estimate assumes
  --run NAME        the run whose checkpoint to report (default: <database>.<table>[:<tenant>])`,
  migrate: `usage: npm run legacy -- migrate --source URL [--mapping FILE] [--table NAME] [--batch N] [--rate N] [--tenant ID] [--run NAME] [--via-queue [--no-wait]]
Resumes from the run's last checkpoint; a finished run writes nothing.
${SOURCE}
  --mapping FILE    JSON mapping; default: the benchmark's legacy shape
  --table NAME      overrides the mapping's table
  --batch N         legacy rows per batch (default ${DEFAULT_BATCH})
  --rate N          at most N messages a second (default ${DEFAULT_RATE}; 0: unthrottled)
  --tenant ID       the tenant of a single-tenant source; with a tenant column, only that tenant's rows
  --run NAME        the run's name (default: <database>.<table>[:<tenant>])
  --via-queue       enqueue the batches as legacy.batch jobs for the workers (each worker needs
                    LEGACY_SOURCE_URL; --rate does not apply: the number of workers is the throttle),
                    then wait until every batch is committed; a re-run enqueues only what is missing
  --no-wait         with --via-queue: enqueue and exit`,
  follow: `usage: npm run legacy -- follow --source URL [--install-capture] [--once] [--interval S] [migrate's options]
Migrates what is past the checkpoint, then applies every change the capture trigger recorded
(inserts, updates, deletes of legacy rows and of their attachments), and repeats until stopped
(Ctrl-C or SIGTERM finish the cycle in progress). Needs the capture installed, best before migrate.
${SOURCE}
  --install-capture create the capture table and triggers on the legacy table (writes to the legacy database)
  --remove-capture  drop them again and exit (abandoning the parallel run; finalize drops them itself)
  --once            one cycle, then exit (0 when nothing is left behind, 4 otherwise)
  --interval S      seconds between cycles when idle (default 1)
  --mapping FILE    JSON mapping; default: the benchmark's legacy shape
  --table NAME      overrides the mapping's table
  --batch N         legacy rows per batch (default ${DEFAULT_BATCH})
  --rate N          at most N messages a second (default ${DEFAULT_RATE}; 0: unthrottled)
  --tenant ID       the tenant of a single-tenant source; with a tenant column, only that tenant's rows
  --run NAME        the run's name (default: <database>.<table>[:<tenant>])`,
  status: `usage: npm run legacy -- status --source URL [--run NAME]
The run's batches and rows, the changes captured but not applied and the rows past the
checkpoint: the lag in rows, and in seconds since the oldest pending change.
${SOURCE}
  --run NAME        the run (default: the only one)`,
  verify: `usage: npm run legacy -- verify --source URL [--run NAME] [--sample N | --all]
Exits 1 when any message differs from its legacy row.
${SOURCE}
  --run NAME        the run to verify (default: the only one)
  --sample N        N legacy rows at random
  --all             every migrated row, batch by batch (the default)`,
  compare: `usage: npm run legacy -- compare --source URL --sample N --api-key KEY [--api URL] [--run NAME]
The shadow read: N random messages of the key's tenant, read through the API (GET /v1/messages/{id}
and each attachment) and from the legacy table, compared field by field. Exits 1 on any difference.
${SOURCE}
  --sample N        how many messages (default 100)
  --api-key KEY     a read key of the tenant to compare (default: $LEGACY_API_KEY)
  --api URL         a running API server (default: the API in-process over this environment's tiers)
  --run NAME        the run (default: the only one)`,
  finalize: `usage: npm run legacy -- finalize --source URL [--run NAME]
Refused (exit 2, naming why) unless verify --all is clean and follow's lag is 0. Then, on the
legacy side in one transaction that locks out writers: the capture trigger and table are dropped
and the table (and its attachments table) renamed to <name>_archived_<YYYYMMDD>. Recorded in the
audit log as legacy.finalize (actor admin).
${SOURCE}
  --run NAME        the run (default: the only one)`,
  rollback: `usage: npm run legacy -- rollback [--tenant ID]
Removes every message migrations created (of one tenant with --tenant); the legacy table is not touched.
  --tenant ID       only this tenant's migrated messages`,
}

const OPTIONS = {
  source: { type: 'string' },
  table: { type: 'string' },
  mapping: { type: 'string' },
  tenant: { type: 'string' },
  run: { type: 'string' },
  batch: { type: 'string' },
  rate: { type: 'string' },
  sample: { type: 'string' },
  all: { type: 'boolean' },
  'install-capture': { type: 'boolean' },
  'remove-capture': { type: 'boolean' },
  'api-key': { type: 'string' },
  api: { type: 'string' },
  once: { type: 'boolean' },
  'via-queue': { type: 'boolean' },
  'no-wait': { type: 'boolean' },
  interval: { type: 'string' },
} as const

/** The command whose usage a mistake is shown with: the verb's, once one is named. */
let cli: Cli = { name: 'legacy', usage: HELP['']! }

const sourceUrl = (given: string | undefined) => {
  const url = given ?? process.env.LEGACY_SOURCE_URL
  if (!url) throw new UsageError('name the legacy database with --source URL (or LEGACY_SOURCE_URL)')
  return url
}

/** <database>.<table>, plus the tenant when a multi-tenant table is migrated one tenant at a time. */
function defaultRun(url: string, m: Mapping, tenant: string | null) {
  let database = 'postgres'
  try {
    database = decodeURIComponent(new URL(url).pathname.slice(1)) || database
  } catch {}
  return `${database}.${m.table}${tenant && m.tenant_column ? `:${tenant}` : ''}`
}

async function withSystem<T>(fn: (system: System) => Promise<T>): Promise<T> {
  const config = loadConfig()
  // Logs to stderr: stdout is the command's answer.
  const system = await openSystem(config, { role: 'legacy', log: createLogger(config, pino.destination(2)) })
  try {
    return await fn(system)
  } finally {
    await system.close()
  }
}

/** follow's loop: a cycle, its line, a pause when idle; a signal ends it after the cycle in progress. */
async function follow(deps: System['deps'], o: FollowOptions, f: { install: boolean; once: boolean; interval: number }): Promise<number> {
  if (f.install) {
    await o.capture.install()
    console.log(`capture installed: table ${o.capture.names.table}, trigger ${o.capture.names.trigger} on ${o.reader.mapping.table}${o.reader.mapping.attachments ? ` and ${o.reader.mapping.attachments.table}` : ''}`)
  } else if (!(await o.capture.installed())) {
    throw invalid(`no change capture on ${o.reader.mapping.table}: run follow once with --install-capture (it creates ${o.capture.names.table} and a trigger on the legacy table)`, 'install-capture', 'not installed')
  }
  let stopping = false
  const stop = () => (stopping = true)
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  try {
    for (;;) {
      const c = await followOnce(deps, o)
      const s = await followStatus(deps, o)
      console.log(`follow ${o.run}: +${c.migrated} migrated, ${c.inserted} inserted, ${c.updated} updated, ${c.deleted} deleted; lag ${s.lag_rows} rows, ${s.lag_seconds === null ? 'unknown' : `${s.lag_seconds.toFixed(1)} s`}`)
      if (f.once) return s.lag_rows ? 4 : 0
      if (stopping) return 0
      if (c.migrated + c.inserted + c.updated + c.deleted === 0) await sleep(f.interval * 1000)
      if (stopping) return 0
    }
  } finally {
    process.off('SIGINT', stop)
    process.off('SIGTERM', stop)
  }
}

async function run(argv: string[]): Promise<number> {
  const [verb = '', ...rest] = argv
  if (verb === '--help' || verb === '-h') {
    console.log(HELP[''])
    return 0
  }
  if (verb === '') {
    console.error(HELP[''])
    return 2
  }
  if (!(verb in HELP)) throw new UsageError(`unknown verb ${verb}`)
  cli = { name: `legacy ${verb}`, usage: HELP[verb]! }
  const { values: v } = commandLine(cli, OPTIONS, { args: rest })
  const tenant = v.tenant ?? null

  if (verb === 'rollback') {
    return withSystem(async ({ deps }) => {
      const r = await rollbackLegacy(deps, { tenant })
      console.log(`removed ${r.messages} migrated messages${tenant ? ` of tenant ${tenant}` : ''}`)
      if (r.runs_removed.length) console.log(`runs removed (migrate starts them over): ${r.runs_removed.join(', ')}`)
      return 0
    })
  }

  const url = sourceUrl(v.source)
  let source: Db | undefined
  try {
    if (verb === 'status') {
      source = await openSource(url)
      const db = source
      return await withSystem(async ({ deps }) => {
        const r = await legacyRun(deps, v.run)
        const mapping = r.mapping as Mapping
        const reader = new LegacyReader(db, mapping, await checkMapping(db, mapping), mapping.tenant_column ? r.tenant_id : null)
        console.log(statusText(await followStatus(deps, { reader, run: r.name, capture: new Capture(db, mapping) })))
        return 0
      })
    }
    if (verb === 'compare') {
      const key = v['api-key'] ?? process.env.LEGACY_API_KEY
      if (!key) throw new UsageError('give the tenant to compare as an API key: --api-key KEY (or LEGACY_API_KEY)')
      const sample = intOption('sample', v.sample, 100, 1)
      source = await openSource(url)
      const db = source
      return await withSystem(async ({ deps }) => {
        const r = await legacyRun(deps, v.run)
        const principal = await authenticate(deps, key)
        if (!principal) throw invalid('unknown, revoked or expired API key', 'api-key', 'unknown key')
        const mapping = r.mapping as Mapping
        const reader = new LegacyReader(db, mapping, await checkMapping(db, mapping), mapping.tenant_column ? r.tenant_id : null)
        const headers = { authorization: `Bearer ${key}` }
        // The in-process app answers the tenant's key only: its admin token is random and never shown.
        const app = v.api ? undefined : createApp({ ...deps, adminToken: randomBytes(24).toString('hex') })
        const get = (path: string) => (app ? Promise.resolve(app.request(path, { headers })) : fetch(new URL(path, v.api), { headers }))
        const report = await compareLegacy(deps, { reader, run: r, tenant: principal.tenant_id, sample, get })
        console.log(compareText(report))
        return report.differences.length ? 1 : 0
      })
    }
    if (verb === 'finalize') {
      source = await openSource(url)
      const db = source
      return await withSystem(async ({ deps }) => {
        const r = await legacyRun(deps, v.run)
        const mapping = r.mapping as Mapping
        const reader = new LegacyReader(db, mapping, await checkMapping(db, mapping), mapping.tenant_column ? r.tenant_id : null)
        const done = await finalizeLegacy(deps, { reader, run: r, capture: new Capture(db, mapping) })
        console.log(`run ${done.run}: ${done.rows} messages migrated; ${mapping.table} archived as ${done.archived.table}${done.archived.attachments ? `, ${mapping.attachments!.table} as ${done.archived.attachments}` : ''}`)
        console.log(done.capture_was_installed ? 'capture stopped (trigger and capture table dropped)' : 'no capture was installed')
        console.log('recorded in the audit log as legacy.finalize')
        return 0
      })
    }
    if (verb === 'verify') {
      if (v.all && v.sample) throw new UsageError('give --sample N or --all, not both')
      const sample = v.sample === undefined ? undefined : intOption('sample', v.sample, 0)
      source = await openSource(url)
      const db = source
      return await withSystem(async ({ deps }) => {
        const r = await legacyRun(deps, v.run)
        const mapping = r.mapping as Mapping
        const reader = new LegacyReader(db, mapping, await checkMapping(db, mapping), mapping.tenant_column ? r.tenant_id : null)
        const report = await verifyLegacy(deps, { reader, run: r, sample })
        console.log(verifyText(report))
        return report.mismatches ? 1 : 0
      })
    }

    const mapping = await loadMapping(v.mapping, { table: v.table })
    const batchSize = intOption('batch', v.batch, DEFAULT_BATCH)
    const rate = intOption('rate', v.rate, DEFAULT_RATE, 0)
    source = await openSource(url)
    const info = await checkMapping(source, mapping)
    const reader = new LegacyReader(source, mapping, info, mapping.tenant_column ? tenant : null)
    const runName = v.run ?? defaultRun(url, mapping, tenant)
    return await withSystem(async ({ deps }) => {
      if (verb === 'plan') {
        console.log(planText(await planLegacy(deps, { reader, info, run: runName, tenant, rate }), runName))
        return 0
      }
      if (verb === 'follow' && v['remove-capture']) {
        const capture = new Capture(reader.db, mapping)
        await capture.uninstall()
        console.log(`capture removed: ${capture.names.table} and the ${capture.names.trigger} triggers are gone from the legacy database`)
        return 0
      }
      if (verb === 'follow') {
        const interval = intOption('interval', v.interval, 1, 0)
        return follow(deps, { reader, run: runName, source: sourceLabel(url, mapping.table), tenant, batchSize, rate, capture: new Capture(reader.db, mapping) }, {
          install: !!v['install-capture'],
          once: !!v.once,
          interval,
        })
      }
      if (v['via-queue']) {
        const plan = await enqueueLegacyBatches(deps, { reader, run: runName, source: sourceLabel(url, mapping.table), tenant, batchSize })
        console.log(`run ${runName}: ${plan.enqueued} legacy.batch jobs enqueued, ${plan.batches.length - plan.enqueued} of ${plan.batches.length} batches committed already`)
        if (v['no-wait']) return 0
        const bar = progress(`migrate ${runName} via the queue (batches)`, plan.batches.length)
        await waitForBatches(deps, plan, { onProgress: (done) => bar.update(done) })
        bar.stop()
        console.log(`run ${runName}: every batch committed`)
        return 0
      }
      const total = await reader.countAfter(null)
      const bar = progress(`migrate ${runName}`, total)
      try {
        const summary = await migrateLegacy(deps, {
          reader,
          run: runName,
          source: sourceLabel(url, mapping.table),
          tenant,
          batchSize,
          rate,
          // The bar counts the whole table; a resumed run starts where its checkpoint is.
          onBatch: (p) => bar.update(total - p.total + p.done, `batch ${p.batch}, ${p.expired} expired`),
        })
        bar.stop()
        console.log(migrateText(summary))
        return 0
      } catch (err) {
        bar.stop()
        throw err
      }
    })
  } finally {
    await source?.close()
  }
}

try {
  process.exit(await run(process.argv.slice(2)))
} catch (err) {
  if (err instanceof AppError) {
    console.error(`legacy: ${err.detail}`)
    process.exit(err.code === 'service_unavailable' ? 3 : 2)
  }
  exitOnError(cli, err)
}
