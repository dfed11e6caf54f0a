import { z } from 'zod'

/** Every queue message is an envelope naming its job; the job's own schema checks the payload. */
export const envelopeSchema = z.object({
  job: z.string().min(1),
  payload: z.unknown(),
  /** Attempts allowed before the message goes to dead_letters (default per job). */
  max_attempts: z.number().int().positive().optional(),
  /** Set by the maintenance scheduler: the start of the interval this run was enqueued for. */
  slot: z.iso.datetime({ offset: true }).optional(),
})

export type Envelope = z.infer<typeof envelopeSchema>
