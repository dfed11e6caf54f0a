/** `npm run workers`: a worker-only process for server mode (no HTTP app); start as many as the queues need. */
import { ConfigError, loadConfig } from '../src/config.ts'
import { createLogger, openSystem } from '../src/system.ts'
import { startWorkers } from '../workers/start.ts'

async function main() {
  const config = loadConfig()
  const log = createLogger(config)
  const system = await openSystem(config, { role: 'worker', log })
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

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err)
  process.exit(err instanceof ConfigError ? 2 : 1)
})
