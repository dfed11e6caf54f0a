/** `npm run migrate`: applies every tier's pending migrations and exits. Safe to run concurrently. */
import { loadConfig, ConfigError } from '../src/config.ts'
import { migrateAll } from '../src/db/migrate.ts'
import { openTiers } from '../src/db/tiers.ts'

try {
  const tiers = await openTiers(loadConfig(), 'edp-migrate')
  try {
    const applied = await migrateAll(tiers)
    for (const [tier, tags] of Object.entries(applied)) console.log(`${tier}: ${tags.length ? tags.join(', ') : 'up to date'}`)
  } finally {
    await tiers.close()
  }
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
}
