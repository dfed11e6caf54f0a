/**
 * `npm run migrate`: applies every tier's pending migrations and exits. Safe to run concurrently
 * (one advisory lock per database). It is the release step when the processes start with
 * MIGRATE_ON_START=false (Procfile, deploy/systemd).
 */
import { commandLine, runCommand } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { migrateAll, pendingMigrations } from '../src/db/migrate.ts'
import { TIER_NAMES } from '../src/db/tier-names.ts'
import { openTiers } from '../src/db/tiers.ts'

const cli = {
  name: 'migrate',
  usage: `usage: npm run migrate [-- --check]

Applies every tier's pending migrations to the databases the environment names (the four
*_DATABASE_URL, or embedded PGlite under DATA_DIR), one tier after another, and prints what it
applied. Concurrent runs wait for each other and apply each migration once.

  --check    apply nothing; print each tier's pending migrations and exit 1 if any is pending`,
}

const { values } = commandLine(cli, { check: { type: 'boolean' } })

await runCommand(cli, async () => {
  const tiers = await openTiers(loadConfig(), 'edp-migrate')
  try {
    if (values.check) {
      let pending = 0
      for (const tier of TIER_NAMES) {
        const tags = await pendingMigrations(tiers[tier], tier)
        pending += tags.length
        console.log(`${tier}: ${tags.length ? `pending ${tags.join(', ')}` : 'up to date'}`)
      }
      return pending ? 1 : 0
    }
    const applied = await migrateAll(tiers)
    for (const [tier, tags] of Object.entries(applied)) console.log(`${tier}: ${tags.length ? tags.join(', ') : 'up to date'}`)
  } finally {
    await tiers.close()
  }
})
