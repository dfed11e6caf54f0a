/** `npm run workers`: a worker-only process for server mode; start as many as the queues need. */
import { ConfigError, loadConfig } from '../src/config.ts'
import { createLogger, startSystem } from '../src/system.ts'

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  // A worker process serves no HTTP, so it needs no admin token.
  const system = await startSystem(config, { adminToken: config.ADMIN_TOKEN ?? '', log, workers: true, role: 'worker' })
  const shutdown = async (signal: string) => {
    log.info({ signal }, 'worker shutting down')
    await system.stop()
    process.exit(0)
  }
  process.once('SIGINT', () => void shutdown('SIGINT'))
  process.once('SIGTERM', () => void shutdown('SIGTERM'))
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
})
