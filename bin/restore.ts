/**
 * `npm run restore -- --from DIR [--force]`: restores a backup set into the databases the
 * environment names (or a fresh DATA_DIR), refusing a non-empty target unless --force, then runs
 * the doctor (src/services/doctor.ts) on the result and prints it. Exit 1 on a refused restore or
 * a violation found afterwards.
 */
import { commandLine, runCommand, UsageError } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { restoreBackup } from '../src/services/backup.ts'
import { reportLines, runDoctor } from '../src/services/doctor.ts'
import { buildDeps } from '../src/system.ts'

const cli = {
  name: 'restore',
  usage: `usage: npm run restore -- --from DIR [--force]

Checks every file against the manifest, restores each database (pg_restore, or the PGlite data
directory), then checks the invariants across tiers. --force restores over existing data: PostgreSQL
objects are dropped first; an existing PGlite directory is moved aside, never deleted.`,
}

const { values } = commandLine(cli, { from: { type: 'string' }, force: { type: 'boolean' } })

await runCommand(cli, async () => {
  if (!values.from) throw new UsageError('name the backup set with --from')
  const config = loadConfig()
  const started = Date.now()
  const manifest = await restoreBackup(values.from, { config, force: values.force ?? false })
  console.log(`restored ${manifest.files.length} file(s) from the set of ${manifest.created_at} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  const tiers = await openTiers(config, 'edp-restore')
  try {
    const report = await runDoctor(buildDeps(tiers, { config }), {})
    console.log(reportLines(report).join('\n'))
    return report.ok ? 0 : 1
  } finally {
    await tiers.close()
  }
})
