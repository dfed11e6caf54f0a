/**
 * `npm start`: the API, plus the workers in the same process in embedded mode (or when
 * WORKERS_IN_PROCESS=true). Server mode runs workers separately with `npm run workers`.
 */
import { ConfigError, isEmbedded, loadConfig } from './config.ts'
import { resolveAdminToken } from './admin-token.ts'
import { createLogger, startSystem } from './system.ts'

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  const admin = await resolveAdminToken(config)
  const workers = config.WORKERS_IN_PROCESS === 'auto' ? isEmbedded(config) : config.WORKERS_IN_PROCESS === 'true'
  const system = await startSystem(config, { adminToken: admin.token, log, workers, role: 'api' })

  const server = Bun.serve({
    port: config.PORT,
    hostname: config.HOST,
    fetch: system.app.fetch,
    // Bun closes idle keep-alive sockets after 10 s by default; load balancers expect longer.
    idleTimeout: 120,
    maxRequestBodySize: config.MAX_BODY_BYTES + 1024,
  })
  log.info({ url: server.url.href, embedded: isEmbedded(config), workers }, 'api listening')
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
    await system.stop()
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
