import type { Config } from '../config.ts'
import { pgliteDataDir } from '../data-dir.ts'
import { openPglite, pgliteDb } from './pglite.ts'
import { postgresDb } from './postgres.ts'
import { TIER_NAMES, type TierName } from './tier-names.ts'
import type { Db } from './types.ts'

/**
 * One Db per tier. Tiers configured with the same URL share one Db object (one pool), which is
 * what lets the OLTP write and its queue event commit in one transaction when they can.
 */
export type Tiers = Readonly<Record<TierName, Db>> & { close(): Promise<void> }

export function sameDatabase(a: Db, b: Db): boolean {
  return a === b
}

const urlOf = (config: Config, tier: TierName) =>
  ({
    oltp: config.OLTP_DATABASE_URL,
    content: config.CONTENT_DATABASE_URL,
    analytics: config.ANALYTICS_DATABASE_URL,
    queue: config.QUEUE_DATABASE_URL,
  })[tier]

/** Wraps already-open Dbs (tests build tiers this way); close() closes each distinct Db once. */
export function tiersFrom(dbs: Record<TierName, Db>): Tiers {
  const distinct = [...new Set(Object.values(dbs))]
  return { ...dbs, close: async () => void (await Promise.all(distinct.map((db) => db.close()))) }
}

/** Opens every tier the config names; unset URLs share one embedded PGlite under DATA_DIR. */
export async function openTiers(config: Config, applicationName = 'edp'): Promise<Tiers> {
  const byUrl = new Map<string, Db>()
  let embedded: Db | undefined
  const dbs = {} as Record<TierName, Db>
  for (const tier of TIER_NAMES) {
    const url = urlOf(config, tier)
    if (!url) {
      if (!embedded) {
        const dataDir = await pgliteDataDir(config.DATA_DIR)
        embedded = pgliteDb(await openPglite({ dataDir }), `pglite:${dataDir}`)
      }
      dbs[tier] = embedded
      continue
    }
    let db = byUrl.get(url)
    if (!db) {
      db = postgresDb(url, { max: config.DB_POOL_MAX, applicationName: `${applicationName}:${tier}` })
      byUrl.set(url, db)
    }
    dbs[tier] = db
  }
  return tiersFrom(dbs)
}
