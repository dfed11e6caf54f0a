import type { Logger } from 'pino'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { Tiers } from './db/tiers.ts'
import type { ContentKeys } from './services/content-keys.ts'
import type { Monitor } from './services/monitor.ts'
import type { GroupCommit } from './services/group-commit.ts'
import type { OutboxRelay } from './services/outbox.ts'

/** Everything a route, service or job needs, built once at start by buildDeps (tests and benchmarks too). */
export interface Deps {
  config: Config
  tiers: Tiers
  log: Logger
  /** The token for operator routes; empty in a process that serves no HTTP. */
  adminToken: string
  outbox: OutboxRelay
  /** Writes messages together: concurrent creates share their commits (src/services/group-commit.ts). */
  writes: GroupCommit
  /** The cached figures /metrics and /ready show; the API process starts its refresh timer. */
  monitor: Monitor
  clock: Clock
  /** Tenants' content data keys, unwrapped by the master key and cached (src/services/content-keys.ts). */
  contentKeys: ContentKeys
  /**
   * The GETs the platform makes on its own: SNS signing certificates and subscription
   * confirmations (src/services/webhooks.ts). Tests replace it; nothing else fetches.
   */
  fetchText: (url: string) => Promise<string>
}
