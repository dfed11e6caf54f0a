/**
 * `npm run restore -- --from DIR [--force]`: restores a backup set into the databases the
 * environment names (or a fresh DATA_DIR), refusing a non-empty target unless --force, then runs
 * the doctor (src/services/doctor.ts) on the result and prints it. Exit 1 on a refused restore or
 * a violation found afterwards.
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { restoreBackup } from '../src/services/backup.ts'
import { runDoctor } from '../src/services/doctor.ts'
import { buildDeps } from '../src/system.ts'

const USAGE = 'usage: npm run restore -- --from DIR [--force]'

async function main(): Promise<number> {
  let values
  try {
    values = parseArgs({
      strict: true,
      options: { from: { type: 'string' }, force: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } },
    }).values
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`)
    return 2
  }
  if (values.help) {
    console.log(`${USAGE}\n\nChecks every file against the manifest, restores each database (pg_restore, or the PGlite data\ndirectory), then checks the invariants across tiers. --force restores over existing data: PostgreSQL\nobjects are dropped first; an existing PGlite directory is moved aside, never deleted.`)
    return 0
  }
  if (!values.from) {
    console.error(`name the backup set with --from\n${USAGE}`)
    return 2
  }
  const config = loadConfig()
  const started = Date.now()
  const manifest = await restoreBackup(values.from, { config, force: values.force })
  console.log(`restored ${manifest.files.length} file(s) from the set of ${manifest.created_at} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const tiers = await openTiers(config, 'edp-restore')
  try {
    const report = await runDoctor(buildDeps(tiers, { config }), {})
    for (const c of report.checks) console.log(`${c.violations === 0 ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(26)} ${String(c.violations).padStart(6)} of ${c.checked}`)
    console.log(report.ok ? 'all invariants hold' : 'violations found: see npm run doctor -- --full')
    return report.ok ? 0 : 1
  } finally {
    await tiers.close()
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? err.message : `restore failed: ${(err as Error).message}`)
    process.exit(1)
  },
)
