/**
 * `npm start`: the API, plus the workers in the same process in embedded mode (or when
 * WORKERS_IN_PROCESS=true). Server mode runs workers separately with `npm run workers`.
 */
import { resolveAdminToken } from '../src/admin-token.ts'
import { ConfigError, isEmbedded, loadConfig, workersInProcess } from '../src/config.ts'
import { createApp } from '../src/http/app.ts'
import { createLogger, openSystem } from '../src/system.ts'
import { startWorkers } from '../workers/start.ts'

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  const admin = await resolveAdminToken(config)
  const inProcess = workersInProcess(config)
  const system = await openSystem(config, { role: 'api', log, adminToken: admin.token })
  const workers = inProcess ? await startWorkers(system.deps) : undefined
  system.deps.monitor.start() // /metrics renders what this reads every METRICS_REFRESH_S

  const server = Bun.serve({
    port: config.PORT,
    hostname: config.HOST,
    fetch: createApp(system.deps).fetch,
    // Bun closes idle keep-alive sockets after 10 s by default; load balancers expect longer.
    idleTimeout: 120,
    maxRequestBodySize: config.MAX_BODY_BYTES + 1024,
  })
  log.info({ url: server.url.href, embedded: isEmbedded(config), workers: inProcess }, 'api listening')
  if (admin.path) {
    const note = admin.generated ? 'generated an admin token' : 'admin token'
    console.log(`\n  ${note} (kept in ${admin.path}):\n  ADMIN_TOKEN=${admin.token}\n`)
  }

  let stopping = false
  const shutdown = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'shutting down')
    await server.stop()
    await workers?.stop()
    await system.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void shutdown('SIGINT'))
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err) => {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(2)
  }
  console.error(err)
  process.exit(1)
})
