import type { Logger } from 'pino'
import type { Tiers } from '../db/tiers.ts'
import { sendBatch } from '../tiers/queue/pgmq.ts'
import { claimOutbox, deleteOutbox } from '../tiers/oltp/outbox.ts'

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
    this.#running = (async () => {
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
    })()
    return this.#running
  }

  startSweep(intervalMs = 5_000): void {
    this.#timer ??= setInterval(() => void this.kick(), intervalMs)
    this.#timer.unref?.()
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#running
  }
}
