/**
 * `npm run backup -- [--to DIR]`: a backup set of every tier the environment names
 * (src/services/backup.ts), into DIR (default: BACKUP_DIR, else ./backups, under a new
 * set-<time> directory). Embedded mode copies the PGlite data, which only a stopped server
 * leaves free: a running one takes its own sets when BACKUP_DIR is set.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { commandLine, runCommand } from '../src/cli.ts'
import { isEmbedded, loadConfig } from '../src/config.ts'
import { openTiers } from '../src/db/tiers.ts'
import { takeBackup } from '../src/services/backup.ts'

const cli = {
  name: 'backup',
  usage: `usage: npm run backup -- [--to DIR]

Writes one file per database (pg_dump, or the PGlite data directory) and manifest.json (tiers,
times, sizes, sha256, migrations, tool versions). Restore with npm run restore -- --from DIR.`,
}

const { values } = commandLine(cli, { to: { type: 'string' } })

await runCommand(cli, async () => {
  const config = loadConfig()
  if (isEmbedded(config) && existsSync(join(config.DATA_DIR, 'pglite', 'postmaster.pid'))) {
    console.error(
      `${join(config.DATA_DIR, 'pglite')} is open in a running process (postmaster.pid). Stop it first, or set BACKUP_DIR ` +
        'so its workers take sets on schedule. (If no process runs, a crash left the file: delete it.)',
    )
    return 1
  }
  const dir = values.to ?? join(config.BACKUP_DIR ?? 'backups', `set-${new Date().toISOString().replaceAll(':', '-')}`)
  const tiers = await openTiers(config, 'edp-backup')
  try {
    const started = Date.now()
    const manifest = await takeBackup(config, tiers, dir)
    for (const f of manifest.files) console.log(`${f.tiers.join('+').padEnd(32)} ${f.file.padEnd(36)} ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}…`)
    console.log(`backup set written to ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
  } finally {
    await tiers.close()
  }
})
