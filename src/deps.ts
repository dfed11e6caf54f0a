import type { Logger } from 'pino'
import type { Config } from './config.ts'
import type { Tiers } from './db/tiers.ts'
import type { OutboxRelay } from './events/outbox-relay.ts'

/** Everything a route, service or job needs, built once at start (tests build it over PGlite). */
export interface Deps {
  config: Config
  tiers: Tiers
  log: Logger
  /** The token for operator routes; always set (generated in embedded mode when unset). */
  adminToken: string
  outbox: OutboxRelay
}
