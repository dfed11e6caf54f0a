/**
 * The HTTP API alone as a `{ fetch }` handler, for any runtime that serves one (`deno serve`, Bun,
 * an edge host): server mode only, and nothing runs until the first request, which opens the tiers
 * (postgres.js pools connect on first query) and builds the app. Unlike `npm start` it applies no
 * migrations (`npm run migrate` does; until then /ready answers 503 naming what is pending), runs
 * no workers (`npm run workers` beside it) and starts no monitor timer: /metrics reads the queue
 * and analytics figures on a scrape instead, at most once per METRICS_REFRESH_S.
 */
import type { Logger } from 'pino'
import { resolveAdminToken } from '../admin-token.ts'
import { requireMasterKey } from '../content-master-key.ts'
import { ConfigError, isEmbedded, type Config } from '../config.ts'
import { createLogger, openSystem, type System } from '../system.ts'
import { createApp } from './app.ts'

const TIER_URLS = ['OLTP_DATABASE_URL', 'CONTENT_DATABASE_URL', 'ANALYTICS_DATABASE_URL', 'QUEUE_DATABASE_URL'] as const

export interface ApiHandler {
  fetch(req: Request): Promise<Response>
  /**
   * Answers 503 to new requests, waits up to timeoutMs for those in flight, then closes the tiers
   * (if a request opened them): what keeps a runtime's event loop alive once its server has stopped.
   */
  close(opts?: { timeoutMs?: number }): Promise<void>
}

const unavailable = (detail: string) =>
  Response.json(
    { type: 'about:blank', title: 'Service unavailable', status: 503, detail },
    { status: 503, headers: { 'content-type': 'application/problem+json', 'retry-after': '1' } },
  )

/**
 * Checks what can be checked without a database (a bad environment fails here, at boot, not at the
 * first request) and returns the handler. Embedded mode is refused: PGlite lives inside the one
 * process that migrates it and runs its workers, which is `npm start`.
 */
export async function apiHandler(config: Config, log: Logger = createLogger(config)): Promise<ApiHandler> {
  if (isEmbedded(config)) {
    const unset = TIER_URLS.filter((k) => !config[k])
    throw new ConfigError(
      `invalid configuration:\n  ${unset.join(', ')}: required: this entry serves the API alone against PostgreSQL ` +
        '(embedded PGlite runs with `npm start` under Bun)',
    )
  }
  if (config.WORKERS_IN_PROCESS === 'true') {
    throw new ConfigError('invalid configuration:\n  WORKERS_IN_PROCESS: this entry runs no workers; run `npm run workers` beside it')
  }
  const { token } = await resolveAdminToken(config) // server mode: ADMIN_TOKEN, or a ConfigError
  await requireMasterKey(config, log) // CONTENT_MASTER_KEY, or a ConfigError
  let opening: Promise<{ system: System; fetch: (req: Request) => Response | Promise<Response> }> | undefined
  const open = () =>
    // Neither migrate nor reach the databases here: /ready names a tier unreachable or behind, and /health stays free of them.
    (opening ??= openSystem(config, { role: 'api', log, adminToken: token, migrate: false, checkReachable: false }).then((system) => ({
      system,
      fetch: createApp(system.deps).fetch,
    })))
  let inFlight = 0
  let closing = false
  let drained: (() => void) | undefined
  return {
    async fetch(req) {
      if (closing) return unavailable('the API is shutting down')
      inFlight++
      try {
        let app
        try {
          app = await open()
        } catch (err) {
          opening = undefined // the next request tries again
          log.error({ err }, 'could not open the tiers')
          return unavailable('the API could not open its databases')
        }
        return await app.fetch(req)
      } finally {
        if (--inFlight === 0) drained?.()
      }
    },
    async close({ timeoutMs = 10_000 } = {}) {
      closing = true
      if (inFlight > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined
        await new Promise<void>((resolve) => {
          drained = resolve
          timer = setTimeout(resolve, timeoutMs)
        })
        clearTimeout(timer)
      }
      const opened = await opening?.catch(() => undefined)
      opening = undefined
      await opened?.system.close()
    },
  }
}
