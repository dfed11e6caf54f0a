import type { Queryable } from '../db/types.ts'
import type { Tiers } from '../db/tiers.ts'
import { sameDatabase } from '../db/tiers.ts'
import { send } from '../tiers/queue/pgmq.ts'
import { insertOutbox } from '../tiers/oltp/outbox.ts'
import { envelopeFor } from '../jobs/enqueue.ts'
import type { JobName, JobPayload } from '../jobs/specs.ts'

/**
 * Enqueues an envelope as part of an OLTP transaction. Same database: straight into pgmq, so the
 * row and its event commit atomically. Different databases: into the OLTP outbox in the same
 * transaction; the outbox relay moves it to pgmq after commit (at least once; jobs dedupe).
 * Returns true when the event went through the outbox and a relay kick is due.
 */
export async function enqueueWithinOltp<J extends JobName>(
  tiers: Tiers,
  tx: Queryable,
  job: J,
  payload: JobPayload<J>,
): Promise<boolean> {
  const { queue, envelope } = envelopeFor(job, payload)
  if (sameDatabase(tiers.oltp, tiers.queue)) {
    await send(tx, queue, envelope)
    return false
  }
  await insertOutbox(tx, queue, envelope)
  return true
}
