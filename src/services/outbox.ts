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
import { claimOutbox, deleteOutbox, insertOutbox, insertOutboxRows } from '../tiers/oltp/outbox.ts'
import { send, sendBatch } from '../tiers/queue/pgmq.ts'

/**
 * Enqueues a job as part of an OLTP transaction (tx). Same database: straight into pgmq, so the row
 * and its job commit atomically. Different databases: into the OLTP outbox in the same
 * transaction; the outbox relay moves it to pgmq after commit (at least once; jobs dedupe).
 * Returns true when the job went through the outbox and a relay kick is due.
 */
export async function enqueueWithinOltp<J extends JobName>(tiers: Tiers, tx: Queryable, job: J, payload: JobPayload<J>): Promise<boolean> {
  const { queue, envelope } = envelopeFor(job, payload)
  if (sameDatabase(tiers.oltp, tiers.queue)) {
    await send(tx, queue, envelope)
    return false
  }
  await insertOutbox(tx, queue, envelope)
  return true
}

/**
 * Jobs for one queue, enveloped by their producers (each names its own request), with an OLTP
 * transaction: one pgmq.send_batch, or one multi-row outbox insert, whatever the count (a group
 * commit's message.created jobs). Returns true when a relay kick is due.
 */
export async function enqueueEnvelopesWithinOltp(tiers: Tiers, tx: Queryable, queue: string, envelopes: readonly Envelope[]): Promise<boolean> {
  if (envelopes.length === 0) return false
  const same = sameDatabase(tiers.oltp, tiers.queue)
  if (envelopes.length === 1) {
    await (same ? send(tx, queue, envelopes[0]) : insertOutbox(tx, queue, envelopes[0]))
  } else {
    await (same ? sendBatch(tx, queue, envelopes) : insertOutboxRows(tx, queue, envelopes))
  }
  return !same
}

const BATCH = 200
// Long enough to send a batch (milliseconds); short, because rows a dead relay leased wait it out.
const LEASE_SECONDS = 10

/**
 * Moves outbox rows (OLTP) into pgmq (queue tier) when the two are different databases.
 * The write path kicks it after each commit; a periodic sweep catches whatever a crash left.
 * A crash between the pgmq send and the outbox delete re-sends after the lease: at least once.
 */
export class OutboxRelay {
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
    const rows = await claimOutbox(this.tiers.oltp, BATCH, LEASE_SECONDS)
    for (const [queue, group] of Map.groupBy(rows, (r) => r.queue)) {
      await sendBatch(this.tiers.queue, queue, group.map((r) => r.payload))
    }
    await deleteOutbox(this.tiers.oltp, rows.map((r) => r.id))
    return rows.length
  }

  /** Drains until empty; concurrent kicks coalesce into one more pass. */
  kick(): Promise<number> {
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
    await this.#running
  }
}
