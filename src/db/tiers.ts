import type { Logger } from 'pino'
import type { Config } from '../config.ts'
import { pgliteDataDir } from '../data-dir.ts'
import { errorLine } from '../error-summary.ts'
import { openPglite, pgliteDb } from './pglite.ts'
import { postgresDb } from './postgres.ts'
import { TIER_NAMES, type TierName } from './tier-names.ts'
import { Replicas, READ_TIERS, type ReadTier } from './replicas.ts'
import type { Db } from './types.ts'

/**
 * One Db per tier. Tiers configured with the same URL share one Db object (one pool), which is
 * what lets the OLTP write and its queue event commit in one transaction when they can.
 */
export type Tiers = Readonly<Record<TierName, Db>> & {
  close(): Promise<void>
  /** Read replicas, when the config names any (src/db/replicas.ts). */
  readonly replicas?: Replicas
}

/**
 * The database for a read that may be up to READ_REPLICA_MAX_LAG_S stale (a listing, a report):
 * the tier's replica while it is fresh, else the primary.
 */
export const readerOf = (tiers: Tiers, tier: ReadTier): Db => readFrom(tiers, tier).db

/** readerOf, with how many seconds behind the primary what it reads may be (0 for the primary). */
export const readFrom = (tiers: Tiers, tier: ReadTier): { db: Db; staleS: number } =>
  tiers.replicas?.reader(tier, tiers[tier]) ?? { db: tiers[tier], staleS: 0 }

const readUrl = (config: Config, tier: ReadTier): string | undefined =>
  ({ oltp: config.OLTP_READ_URL, content: config.CONTENT_READ_URL, analytics: config.ANALYTICS_READ_URL })[tier]

export function sameDatabase(a: Db, b: Db): boolean {
  return a === b
}

/** The URL the config names for a tier; undefined means embedded PGlite. */
export const tierUrl = (config: Config, tier: TierName): string | undefined =>
  ({
    oltp: config.OLTP_DATABASE_URL,
    content: config.CONTENT_DATABASE_URL,
    analytics: config.ANALYTICS_DATABASE_URL,
    queue: config.QUEUE_DATABASE_URL,
  })[tier]

/** The distinct databases behind the tiers, in tier order, each with the tiers it holds. */
export function databasesOf(dbs: Readonly<Record<TierName, Db>>): { db: Db; tiers: TierName[] }[] {
  const out: { db: Db; tiers: TierName[] }[] = []
  for (const tier of TIER_NAMES) {
    const found = out.find((d) => d.db === dbs[tier])
    if (found) found.tiers.push(tier)
    else out.push({ db: dbs[tier], tiers: [tier] })
  }
  return out
}

/** Wraps already-open Dbs (tests build tiers this way); close() closes each distinct Db once, and the replicas. */
export function tiersFrom(dbs: Record<TierName, Db>, replicas?: Replicas): Tiers {
  const distinct = databasesOf(dbs).map((d) => d.db)
  return {
    ...dbs,
    replicas,
    close: async () => {
      await replicas?.close()
      await Promise.all(distinct.map((db) => db.close()))
    },
  }
}

/** A tier's database cannot be reached: the message names the tiers and where (never a password). */
export class TierUnavailableError extends Error {
  override name = 'TierUnavailableError'
}

/** Why a first connection failed, in words an operator acts on; other errors as errorLine writes them. */
function connectFailure(err: unknown): string {
  const code = (err as { code?: unknown }).code
  const known: Record<string, string> = {
    ECONNREFUSED: 'connection refused (is PostgreSQL listening there?)',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host not found (DNS did not answer)',
    CONNECT_TIMEOUT: 'timed out connecting',
    '3D000': 'the database does not exist (create it, then migrate)',
    '28P01': 'password authentication failed',
    '28000': 'the role may not connect (no such role, or pg_hba.conf refuses it)',
  }
  return typeof code === 'string' && known[code] ? `${known[code]} (${code})` : errorLine(err)
}

/**
 * One query on each PostgreSQL database, all at once, so a wrong or unreachable URL is one clear
 * error at start naming every tier it affects, instead of a driver error at the first migration.
 */
async function checkReachable(dbs: Record<TierName, Db>): Promise<void> {
  const byDb = Map.groupBy(TIER_NAMES.filter((t) => dbs[t].engine === 'postgres'), (t) => dbs[t])
  const failures = await Promise.all(
    [...byDb].map(async ([db, tiers]) => {
      try {
        await db.query('SELECT 1')
        return undefined
      } catch (err) {
        const which = tiers.length > 1 ? `${tiers.join(' and ')} tiers` : `${tiers[0]} tier`
        return `cannot reach the database of the ${which} (${db.label}): ${connectFailure(err)}`
      }
    }),
  )
  const problems = failures.filter((f) => f !== undefined)
  if (problems.length) throw new TierUnavailableError(problems.join('\n'))
}

/**
 * Opens every tier the config names; unset URLs share one embedded PGlite under DATA_DIR. Every
 * PostgreSQL database is reached once before this returns (TierUnavailableError otherwise), unless
 * checkReachable is false: then its pool connects on first use.
 */
export async function openTiers(
  config: Config,
  applicationName = 'edp',
  { checkReachable: check = true, log }: { checkReachable?: boolean; log?: Logger } = {},
): Promise<Tiers> {
  const byUrl = new Map<string, Db>()
  let embedded: Db | undefined
  const dbs = {} as Record<TierName, Db>
  for (const tier of TIER_NAMES) {
    const url = tierUrl(config, tier)
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
  const replicas = openReplicas(config, dbs, applicationName, log)
  const tiers = tiersFrom(dbs, replicas)
  try {
    if (check) await checkReachable(dbs)
    // The first check before anything reads: until a replica is known fresh, reads use its primary.
    await replicas?.start()
  } catch (err) {
    await tiers.close()
    throw err
  }
  return tiers
}

/** A pool per configured replica (a few connections: listings and reports only), or none. */
function openReplicas(config: Config, dbs: Record<TierName, Db>, applicationName: string, log: Logger | undefined): Replicas | undefined {
  const pairs: Partial<Record<ReadTier, { primary: Db; replica: Db }>> = {}
  for (const tier of READ_TIERS) {
    const url = readUrl(config, tier)
    if (url) pairs[tier] = { primary: dbs[tier], replica: postgresDb(url, { max: config.DB_POOL_MAX, applicationName: `${applicationName}:${tier}-read` }) }
  }
  return Object.keys(pairs).length > 0 ? new Replicas(pairs, { maxLagS: config.READ_REPLICA_MAX_LAG_S, log }) : undefined
}
