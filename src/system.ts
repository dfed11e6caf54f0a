/**
 * What every process starts from: the tiers opened and migrated, and the one Deps object over
 * them. The HTTP app (src/http) and the workers (workers/) are built on top by the entry points
 * in bin/; nothing here starts either.
 */
import pino, { type DestinationStream, type Logger } from 'pino'
import { systemClock, type Clock } from './clock.ts'
import type { Config } from './config.ts'
import { migrateAll } from './db/migrate.ts'
import { serializeErr } from './error-summary.ts'
import { openTiers, type Tiers } from './db/tiers.ts'
import type { Deps } from './deps.ts'
import { requestIdsForLog } from './request-context.ts'
import { GroupCommit } from './services/group-commit.ts'
import { ContentKeys } from './services/content-keys.ts'
import { Monitor } from './services/monitor.ts'
import { OutboxRelay } from './services/outbox.ts'

/**
 * JSON lines to stdout (or `destination`); errors pass through serializeErr, so no driver field
 * carries a value into them. A line written for a request, or for a job a request caused, names
 * the request (src/request-context.ts).
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>, destination?: DestinationStream): Logger {
  return pino(
    { level: config.LOG_LEVEL, base: { pid: process.pid }, serializers: { err: serializeErr }, mixin: requestIdsForLog },
    destination,
  )
}

/**
 * A bounded GET (5 s, 64 KiB) whose successful answers are kept for an hour: SNS signs every
 * notification with one of a few certificates, which need not be fetched each time.
 */
function cachedFetchText(): (url: string) => Promise<string> {
  const cache = new Map<string, { text: string; until: number }>()
  return async (url) => {
    const hit = cache.get(url)
    if (hit && hit.until > Date.now()) return hit.text
    const res = await fetch(url, { signal: AbortSignal.timeout(5000), redirect: 'error' })
    if (!res.ok) throw new Error(`GET ${new URL(url).host} answered ${res.status}`)
    const text = (await res.text()).slice(0, 64 * 1024)
    if (cache.size > 100) cache.clear()
    cache.set(url, { text, until: Date.now() + 3_600_000 })
    return text
  }
}

export interface DepsOptions {
  config: Config
  log?: Logger
  adminToken?: string
  clock?: Clock
  /** false: new content is written in the clear (the encryption benchmark's baseline only). */
  sealContent?: boolean
}

/** The one place a Deps is built, over tiers that are already open. */
export function buildDeps(tiers: Tiers, { config, log = createLogger(config), adminToken = '', clock = systemClock, sealContent }: DepsOptions): Deps {
  const contentKeys = ContentKeys.fromConfig(tiers.content, log, config, { sealing: sealContent })
  const deps = { config, tiers, log, adminToken, clock, contentKeys, outbox: new OutboxRelay(tiers, log), fetchText: cachedFetchText() } as Deps
  // The monitor reads through the Deps it belongs to, so it is made once they exist.
  deps.monitor = new Monitor(deps)
  deps.writes = new GroupCommit(deps)
  return deps
}

export interface System {
  deps: Deps
  /** Stops the monitor's timer and the outbox relay, and closes every tier. */
  close(): Promise<void>
}

/**
 * Opens every tier the config names, reaching each database once (unless `checkReachable` is
 * false: then a pool connects on first use), applies pending migrations (unless `migrate` is
 * false: `npm run migrate` does, and /ready names what is pending), and builds the Deps.
 */
export async function openSystem(
  config: Config,
  opts: { role: string; log: Logger; adminToken?: string; migrate?: boolean; checkReachable?: boolean },
): Promise<System> {
  const tiers = await openTiers(config, `edp-${opts.role}`, { checkReachable: opts.checkReachable !== false, log: opts.log })
  try {
    if (opts.migrate !== false) {
      const applied = await migrateAll(tiers)
      if (Object.values(applied).some((a) => a.length)) opts.log.info({ applied }, 'migrations applied')
    }
  } catch (err) {
    await tiers.close()
    throw err
  }
  const deps = buildDeps(tiers, { config, log: opts.log, adminToken: opts.adminToken })
  return {
    deps,
    async close() {
      await deps.monitor.stop()
      await deps.outbox.stop()
      await tiers.close()
    },
  }
}
