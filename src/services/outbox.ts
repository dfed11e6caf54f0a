/**
 * The transactional outbox: a job enqueued together with an OLTP write. When OLTP and queue are
 * one database the job goes straight into pgmq in the write's transaction; when they are two, it
 * goes into oltp.outbox in that transaction and the relay below moves it to pgmq after commit.
 */
import type { Logger } from 'pino'
import type { Queryable } from '../db/types.ts'
import { sameDatabase, type Tiers } from '../db/tiers.ts'
import { envelopeFor } from '../jobs/enqueue.ts'
import type { Envelope } from '../jobs/envelope.ts'
import type { JobName, JobPayload } from '../jobs/specs.ts'
import { holdHandle } from '../open-handles.ts'
import { withRequestIds } from '../request-context.ts'
import { hasCitus } from '../db/distribution.ts'
import {
  claimOutbox,
  claimTenantOutbox,
  deleteOutbox,
  insertOutbox,
  insertOutboxRows,
  tenantsWaitingInOutbox,
  type OutboxRow,
} from '../tiers/oltp/outbox.ts'
import { send, sendBatch } from '../tiers/queue/pgmq.ts'

/**
 * Enqueues a job as part of an OLTP transaction (tx). Same database: straight into pgmq, so the row
 * and its job commit atomically. Different databases: into the OLTP outbox in the same
 * transaction, and after commit the caller hands the rows returned to OutboxRelay.publish (at
 * least once; jobs dedupe). Returns the outbox rows written: none on one database.
 */
export async function enqueueWithinOltp<J extends JobName>(
  tiers: Tiers,
  tx: Queryable,
  tenantId: string,
  job: J,
  payload: JobPayload<J>,
): Promise<OutboxRow[]> {
  const { queue, envelope } = envelopeFor(job, payload)
  if (sameDatabase(tiers.oltp, tiers.queue)) {
    await send(tx, queue, envelope)
    return []
  }
  return [await insertOutbox(tx, tenantId, queue, envelope)]
}

/** A job for the outbox: its envelope, and the tenant whose write it belongs to (its row's shard on Citus). */
export interface TenantJob {
  tenantId: string
  envelope: Envelope
}

/**
 * Jobs for one queue, enveloped by their producers (each names its own request), with an OLTP
 * transaction: one pgmq.send_batch, or one multi-row outbox insert, whatever the count (a group
 * commit's message.created jobs). Returns the outbox rows written, for OutboxRelay.publish.
 */
export async function enqueueEnvelopesWithinOltp(tiers: Tiers, tx: Queryable, queue: string, jobs: readonly TenantJob[]): Promise<OutboxRow[]> {
  if (jobs.length === 0) return []
  if (sameDatabase(tiers.oltp, tiers.queue)) {
    await (jobs.length === 1 ? send(tx, queue, jobs[0]!.envelope) : sendBatch(tx, queue, jobs.map((j) => j.envelope)))
    return []
  }
  return insertOutboxRows(tx, queue, jobs.map((j) => ({ tenantId: j.tenantId, payload: j.envelope })))
}

const BATCH = 200
// Long enough to send a batch (milliseconds); short, because rows a dead relay leased wait it out.
const LEASE_SECONDS = 10
// On Citus, how many waiting tenants one search finds (each then claimed with a routed statement).
const TENANTS_PER_CLAIM = 20

/**
 * Moves outbox rows (OLTP) into pgmq (queue tier) when the two are different databases.
 * A write hands it the rows it just committed (publish); a periodic sweep, and a kick, claim
 * whatever is left: rows a crash or a failed send left behind.
 * A crash between the pgmq send and the outbox delete re-sends after the lease: at least once.
 */
export class OutboxRelay {
  #distributed: Promise<boolean> | undefined
  /** On a cluster: tenants whose rows the next claims visit, and whether to look for more. */
  readonly #tenants = new Set<string>()
  #everyone = false
  readonly #publishing = new Set<Promise<void>>()
  #running: Promise<number> | undefined
  #again = false
  #timer: ReturnType<typeof setInterval> | undefined
  #released: (() => void) | undefined

  constructor(
    private readonly tiers: Tiers,
    private readonly log: Logger,
  ) {}

  /** One batch: lease, send, delete. Returns how many rows it moved. */
  async drainOnce(): Promise<number> {
    const rows = await this.#claim()
    await this.#move(rows)
    return rows.length
  }

  async #move(rows: readonly OutboxRow[]): Promise<void> {
    for (const [queue, group] of Map.groupBy(rows, (r) => r.queue)) {
      await sendBatch(this.tiers.queue, queue, group.map((r) => r.payload))
    }
    // On a cluster, one routed delete a tenant: a delete across shards waits on, and holds up,
    // every write to them (measured: 37 ms a group of 7 at 16 writers, against 2-4 ms routed).
    if (await this.#isDistributed()) await Promise.all([...Map.groupBy(rows, (r) => r.tenant_id).values()].map((g) => deleteOutbox(this.tiers.oltp, g)))
    else await deleteOutbox(this.tiers.oltp, rows)
  }

  #isDistributed(): Promise<boolean> {
    this.#distributed ??= hasCitus(this.tiers.oltp)
    return this.#distributed
  }

  /**
   * Moves rows the caller's transaction has just committed, without claiming them: the writer
   * knows them, so the claim's statement is saved (on a cluster, a routed UPDATE a write). Not
   * awaited by the caller. Should another relay claim one meanwhile, both send it (jobs dedupe);
   * should this fail, the rows stay for the sweep.
   */
  publish(rows: readonly OutboxRow[]): void {
    if (rows.length === 0) return
    // Its log lines belong to no request: it runs after the answer.
    const moving = withRequestIds(undefined, () =>
      this.#move(rows).catch((err: unknown) => this.log.warn({ err, rows: rows.length }, 'outbox rows not moved at once; the sweep will move them')),
    )
    this.#publishing.add(moving)
    void moving.finally(() => this.#publishing.delete(moving))
  }

  /**
   * The oldest unclaimed rows, up to a batch. One server: one statement over every tenant. A
   * Citus cluster cannot lock rows across shards in one statement, so there the relay finds the
   * tenants waiting longest (the one statement that asks every shard) and claims within each, one
   * routed statement a tenant.
   */
  async #claim(): Promise<OutboxRow[]> {
    const { oltp } = this.tiers
    if (!(await this.#isDistributed())) return claimOutbox(oltp, BATCH, LEASE_SECONDS)
    if (this.#everyone && this.#tenants.size < TENANTS_PER_CLAIM) {
      const waiting = await tenantsWaitingInOutbox(oltp, TENANTS_PER_CLAIM)
      for (const t of waiting) this.#tenants.add(t)
      // A full page may leave more tenants waiting: look again once these are done.
      this.#everyone = waiting.length === TENANTS_PER_CLAIM
    }
    const rows: OutboxRow[] = []
    for (const tenant of this.#tenants) {
      const want = BATCH - rows.length
      if (want === 0) break
      const got = await claimTenantOutbox(oltp, tenant, want, LEASE_SECONDS)
      rows.push(...got)
      if (got.length < want) this.#tenants.delete(tenant)
    }
    return rows
  }

  /** Drains until empty; concurrent kicks coalesce into one more pass. */
  kick(): Promise<number> {
    this.#everyone = true
    if (this.#running) {
      this.#again = true
      return this.#running
    }
    // A kick from a request drains every request's rows: its lines belong to none of them.
    this.#running = withRequestIds(undefined, async () => {
      let moved = 0
      try {
        do {
          this.#again = false
          // This process's own writes are being moved already: claiming them too would send them twice.
          await Promise.all(this.#publishing)
          for (let n = await this.drainOnce(); n > 0; n = await this.drainOnce()) moved += n
        } while (this.#again)
      } catch (err) {
        this.log.error({ err }, 'outbox relay failed; the sweep will retry')
      } finally {
        this.#running = undefined
      }
      return moved
    })
    return this.#running
  }

  /** Kicks the relay every intervalMs: what a crashed process left in the outbox goes out within one interval. */
  startSweep(intervalMs = 5_000): void {
    if (this.#timer) return
    this.#timer = setInterval(() => void this.kick(), intervalMs)
    this.#timer.unref?.()
    this.#released = holdHandle('timer', 'outbox sweep')
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#released?.()
    await Promise.all([this.#running, ...this.#publishing])
  }
}
