/**
 * `npm start`: the API, plus the workers in the same process in embedded mode (or when
 * WORKERS_IN_PROCESS=true). Server mode runs workers separately with `npm run workers`.
 */
import pino, { type Logger } from 'pino'
import { resolveAdminToken } from '../src/admin-token.ts'
import { requireMasterKey } from '../src/content-master-key.ts'
import { commandLine, exitOnError } from '../src/cli.ts'
import { apiProcesses, isEmbedded, loadConfig, workersInProcess } from '../src/config.ts'
import { apiSlot, dieWithSupervisor, DRAIN_MS, reportReady, superviseApi } from '../src/api-processes.ts'
import { createApp } from '../src/http/app.ts'
import { assertMigrated, MigrationError } from '../src/db/migrate.ts'
import { createLogger, openSystem, type System } from '../src/system.ts'
import { startWorkers } from '../workers/start.ts'

const cli = {
  name: 'start',
  usage: `usage: npm start

Serves the API on HOST:PORT (default 127.0.0.1:3000). Embedded mode (no *_DATABASE_URL): one PGlite
under DATA_DIR, the workers in this process, and an admin token generated on the first start (kept
in DATA_DIR/admin-token, shown once). Server mode: the four *_DATABASE_URL and ADMIN_TOKEN;
workers run in \`npm run workers\` unless WORKERS_IN_PROCESS=true. Pending migrations are applied
first unless MIGRATE_ON_START=false (then \`npm run migrate\` does it, and /ready answers 503 until
it has). Server mode runs API_PROCESSES copies of the API on PORT (default: one per CPU core);
SIGHUP restarts them one at a time. Settings: README, "Configuration". SIGTERM or SIGINT stops it
cleanly.`,
}

commandLine(cli, {})

/**
 * MIGRATE_ON_START=false: migrating is the release step's job. Workers must not run on a schema
 * older than their code, so a process with workers refuses to start; the API alone starts, says
 * so, and answers /ready 503 until `npm run migrate` has run.
 */
async function refuseOlderSchema(system: System, withWorkers: boolean, log: Logger) {
  try {
    await assertMigrated(system.deps.tiers)
  } catch (err) {
    if (withWorkers || !(err instanceof MigrationError)) {
      await system.close()
      throw err
    }
    log.warn({ detail: err.message }, 'not ready until migrated')
  }
}

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  const processes = apiProcesses(config)
  const slot = apiSlot()
  if (slot === undefined && processes > 1) return superviseApi(config, log, processes)
  if (slot !== undefined) dieWithSupervisor()
  const admin = await resolveAdminToken(config)
  if (admin.generated) {
    // Shown this once, on stderr: stdout is the log stream, which is shipped and kept. The file keeps it.
    createLogger(config, pino.destination(2)).info(
      { admin_token: admin.token, kept_in: admin.path },
      'generated an admin token: send it as Authorization: Bearer on operator routes; it is not shown again',
    )
  }
  await requireMasterKey(config, log)
  const inProcess = workersInProcess(config)
  const system = await openSystem(config, { role: 'api', log, adminToken: admin.token, migrate: config.MIGRATE_ON_START })
  if (!config.MIGRATE_ON_START) await refuseOlderSchema(system, inProcess, log)
  const workers = inProcess ? await startWorkers(system.deps) : undefined
  system.deps.monitor.start() // /metrics renders what this reads every METRICS_REFRESH_S

  const app = createApp(system.deps)
  // A copy being replaced answers its last requests with Connection: close, so clients reconnect
  // (to the copy that replaces it) instead of reusing a connection it is about to close.
  let draining = false
  const server = Bun.serve({
    port: config.PORT,
    hostname: config.HOST,
    // Every copy under a supervisor binds the same port; the kernel spreads connections over them.
    reusePort: slot !== undefined,
    fetch: async (req, srv) => {
      const res = await app.fetch(req, srv)
      if (draining) res.headers.set('connection', 'close')
      return res
    },
    // Bun closes idle keep-alive sockets after 10 s by default; load balancers expect longer.
    idleTimeout: 120,
    maxRequestBodySize: config.MAX_BODY_BYTES + 1024,
  })
  if (slot === undefined) log.info({ url: server.url.href, embedded: isEmbedded(config), workers: inProcess }, 'api listening')
  else log.info({ url: server.url.href, slot, pid: process.pid, workers: inProcess }, 'api process listening')
  reportReady()

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    if (slot !== undefined) {
      draining = true
      await Bun.sleep(DRAIN_MS)
    }
    await server.stop()
    await workers?.stop()
    await system.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err) => exitOnError(cli, err))
