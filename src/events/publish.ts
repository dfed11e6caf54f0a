import type { Queryable } from '../db/types.ts'
import type { Tiers } from '../db/tiers.ts'
import { sameDatabase } from '../db/tiers.ts'
import { send } from '../tiers/queue/pgmq.ts'
import { insertOutbox } from '../tiers/oltp/outbox.ts'
import type { Envelope } from './envelope.ts'

/**
 * Enqueues an envelope as part of an OLTP transaction. Same database: straight into pgmq, so the
 * row and its event commit atomically. Different databases: into the OLTP outbox in the same
 * transaction; the outbox relay moves it to pgmq after commit (at least once; jobs dedupe).
 * Returns true when the event went through the outbox and a relay kick is due.
 */
export async function enqueueWithinOltp(tiers: Tiers, tx: Queryable, queue: string, envelope: Envelope): Promise<boolean> {
  if (sameDatabase(tiers.oltp, tiers.queue)) {
    await send(tx, queue, envelope)
    return false
  }
  await insertOutbox(tx, queue, envelope)
  return true
}
