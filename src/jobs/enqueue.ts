/**
 * How producers send a job: the payload is checked against the job's schema here, at the
 * producer, so a bad payload fails the caller instead of dead-lettering later. These send on the
 * queue tier alone; a job that must commit with an OLTP write goes through src/services/outbox.ts.
 */
import type { Db, Queryable } from '../db/types.ts'
import { currentRequestIds } from '../request-context.ts'
import { send } from '../tiers/queue/pgmq.ts'
import { claimSlot } from '../tiers/queue/schedules.ts'
import type { Envelope } from './envelope.ts'
import { JOB_SPECS, type JobName, type JobPayload } from './specs.ts'

/** The envelope for a job, after checking its payload; it names the request it is enqueued for, if any. */
export function envelopeFor<J extends JobName>(job: J, payload: JobPayload<J>, extra: Omit<Envelope, 'job' | 'payload'> = {}) {
  const spec = JOB_SPECS[job]
  return { queue: spec.queue, envelope: { job, payload: spec.schema.parse(payload), ...currentRequestIds(), ...extra } satisfies Envelope }
}

/** Enqueues a job on the queue tier (or inside a caller's transaction on it). */
export async function enqueue<J extends JobName>(q: Queryable, job: J, payload: JobPayload<J>, delaySeconds = 0) {
  const { queue, envelope } = envelopeFor(job, payload)
  return send(q, queue, envelope, delaySeconds)
}

/** The start of the interval of `everySeconds` that the moment `ms` falls in. */
export const slotOf = (ms: number, everySeconds: number) => new Date(Math.floor(ms / (everySeconds * 1000)) * everySeconds * 1000)

/**
 * Enqueues a periodic job once per slot across every process that asks: the slot is claimed and
 * the job sent in one queue-tier transaction, so a claimed slot always has its job. Returns true
 * when this call won the slot.
 */
export async function enqueueOncePerSlot<J extends JobName>(
  queueDb: Db,
  schedule: { job: J; payload: JobPayload<J>; slot: Date },
  claimedBy: string,
): Promise<boolean> {
  const { queue, envelope } = envelopeFor(schedule.job, schedule.payload, { slot: schedule.slot.toISOString() })
  return queueDb.transaction(async (tx) => {
    if (!(await claimSlot(tx, schedule.job, schedule.slot, claimedBy))) return false
    await send(tx, queue, envelope)
    return true
  })
}
