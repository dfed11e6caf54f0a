/** `npm run workers`: a worker-only process for server mode (no HTTP app); start as many as the queues need. */
import { commandLine, exitOnError } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { assertMigrated } from '../src/db/migrate.ts'
import { requireMasterKey } from '../src/content-master-key.ts'
import { createLogger, openSystem } from '../src/system.ts'
import { startWorkers } from '../workers/start.ts'

const cli = {
  name: 'workers',
  usage: `usage: npm run workers

Runs every queue's workers and the maintenance schedule against the tiers the environment names
(server mode: the four *_DATABASE_URL), with no HTTP server. Start as many as the queues need; a
maintenance job runs once per interval across all of them. Pending migrations are applied first;
with MIGRATE_ON_START=false it refuses to start (exit 1) until \`npm run migrate\` has applied them.
SIGTERM or SIGINT stops reading, waits up to WORKER_SHUTDOWN_TIMEOUT_MS for jobs in flight,
releases the rest and exits 0.`,
}

commandLine(cli, {})

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  await requireMasterKey(config, log)
  const system = await openSystem(config, { role: 'worker', log, migrate: config.MIGRATE_ON_START })
  if (!config.MIGRATE_ON_START) {
    // Migrating is the release step's job then; jobs must not run on a schema older than their code.
    await assertMigrated(system.deps.tiers).catch(async (err) => {
      await system.close()
      throw err
    })
  }
  const workers = await startWorkers(system.deps)
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'worker shutting down')
    await workers.stop()
    await system.close()
    process.exit(0)
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err) => exitOnError(cli, err))
