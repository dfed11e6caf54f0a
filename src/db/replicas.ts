/**
 * Read replicas: where a listing or a report may read. A tier with a replica (OLTP_READ_URL,
 * CONTENT_READ_URL, ANALYTICS_READ_URL) sends those reads there while the replica is fresh, and
 * to the primary otherwise; fetches by id, threads and every write always use the primary (the
 * services decide which reads may be stale: see readerOf's callers).
 *
 * Fresh means at most maxLagS behind, measured in WAL, not in commit times (an idle primary
 * commits nothing, and replay timestamps then say nothing): every CHECK_MS the primary's current
 * WAL position is sampled and kept with its time; a replica that has replayed the position the
 * primary had at time t holds everything committed by t, so its lag is at most now − t for the
 * newest such sample. A replica that cannot be reached, or is further behind, is skipped until a
 * check finds it fresh again; until the first check, reads use the primary.
 */
import type { Logger } from 'pino'
import type { Db } from './types.ts'

export const READ_TIERS = ['oltp', 'content', 'analytics'] as const
export type ReadTier = (typeof READ_TIERS)[number]

const CHECK_MS = 250

/** 'X/Y' (pg_lsn as text) as one number, so positions compare. */
export const lsnValue = (lsn: string): bigint => {
  const [hi, lo] = lsn.split('/')
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`)
}

export interface ReplicaState {
  /** Whether reads go to the replica now. */
  inUse: boolean
  /** Seconds behind at the last check (an upper bound); null when it could not be measured. */
  lagS: number | null
  /** Why it is not in use, when it is not. */
  reason: string | null
}

class Replica {
  #samples: { at: number; lsn: bigint }[] = []
  state: ReplicaState = { inUse: false, lagS: null, reason: 'not checked yet' }

  constructor(
    readonly tier: ReadTier,
    readonly primary: Db,
    readonly db: Db,
    private readonly maxLagS: number,
    private readonly log: Logger | undefined,
  ) {}

  async check(now = Date.now()): Promise<void> {
    let next: ReplicaState
    try {
      const [p] = await this.primary.query<{ lsn: string }>(`SELECT pg_current_wal_lsn()::text AS lsn`)
      this.#samples.push({ at: now, lsn: lsnValue(p!.lsn) })
      // Keep what can still matter: the newest sample older than the bound, and everything after.
      const keepFrom = this.#samples.findLastIndex((s) => s.at <= now - this.maxLagS * 1000)
      if (keepFrom > 0) this.#samples = this.#samples.slice(keepFrom)
      const [r] = await this.db.query<{ lsn: string | null }>(`SELECT pg_last_wal_replay_lsn()::text AS lsn`)
      if (r?.lsn == null) {
        next = { inUse: false, lagS: null, reason: 'not a replica (pg_last_wal_replay_lsn() is null)' }
      } else {
        const replayed = lsnValue(r.lsn)
        const reached = this.#samples.findLast((s) => s.lsn <= replayed)
        const lagS = reached ? (now - reached.at) / 1000 : null
        next =
          lagS !== null && lagS <= this.maxLagS
            ? { inUse: true, lagS, reason: null }
            : { inUse: false, lagS, reason: `more than ${this.maxLagS} s behind its primary` }
      }
    } catch (err) {
      next = { inUse: false, lagS: null, reason: `unreachable: ${(err as Error).message}` }
    }
    if (next.inUse !== this.state.inUse) {
      if (next.inUse) this.log?.info({ tier: this.tier, lag_s: next.lagS }, 'read replica in use')
      else this.log?.warn({ tier: this.tier, reason: next.reason }, 'read replica skipped: reads go to the primary')
    }
    this.state = next
  }
}

export class Replicas {
  readonly #byTier = new Map<ReadTier, Replica>()
  #timer: ReturnType<typeof setInterval> | undefined
  #checking: Promise<void> | undefined

  constructor(
    replicas: Partial<Record<ReadTier, { primary: Db; replica: Db }>>,
    { maxLagS, log }: { maxLagS: number; log?: Logger },
  ) {
    for (const tier of READ_TIERS) {
      const r = replicas[tier]
      if (r) this.#byTier.set(tier, new Replica(tier, r.primary, r.replica, maxLagS, log))
    }
  }

  get size(): number {
    return this.#byTier.size
  }

  /** Checks every replica now, then every CHECK_MS until close(). */
  async start(): Promise<void> {
    if (this.#byTier.size === 0) return
    await this.checkNow()
    this.#timer = setInterval(() => void this.checkNow(), CHECK_MS)
    this.#timer.unref?.()
  }

  /** One check of every replica (a check already running is joined, not doubled). */
  checkNow(): Promise<void> {
    this.#checking ??= Promise.all([...this.#byTier.values()].map((r) => r.check())).then(() => {
      this.#checking = undefined
    })
    return this.#checking
  }

  /**
   * Where a read that may be up to the bound stale goes: the replica when fresh, else the primary;
   * with how stale it may be, in seconds (the lag at the last check plus the time since).
   */
  reader(tier: ReadTier, primary: Db): { db: Db; staleS: number } {
    const r = this.#byTier.get(tier)
    return r?.state.inUse ? { db: r.db, staleS: (r.state.lagS ?? 0) + CHECK_MS / 1000 } : { db: primary, staleS: 0 }
  }

  states(): Partial<Record<ReadTier, ReplicaState>> {
    return Object.fromEntries([...this.#byTier].map(([t, r]) => [t, r.state]))
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer)
    await this.#checking
    await Promise.all([...this.#byTier.values()].map((r) => r.db.close()))
  }
}
