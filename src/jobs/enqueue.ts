import type { Queryable } from '../db/types.ts'
import type { Envelope } from '../events/envelope.ts'
import { send } from '../tiers/queue/pgmq.ts'
import { JOB_SPECS, type JobName, type JobPayload } from './specs.ts'

/** The envelope for a job, after checking its payload: a bad payload fails here, at the producer. */
export function envelopeFor<J extends JobName>(job: J, payload: JobPayload<J>): { queue: string; envelope: Envelope } {
  const spec = JOB_SPECS[job]
  return { queue: spec.queue, envelope: { job, payload: spec.schema.parse(payload) } }
}

/** Enqueues a job on the queue tier (or inside a caller's transaction on it). */
export async function enqueue<J extends JobName>(q: Queryable, job: J, payload: JobPayload<J>, delaySeconds = 0) {
  const { queue, envelope } = envelopeFor(job, payload)
  return send(q, queue, envelope, delaySeconds)
}
