import { z } from 'zod'

/** Every queue message is an envelope naming its job; the job's own schema checks the payload. */
export const envelopeSchema = z.object({
  job: z.string().min(1),
  payload: z.unknown(),
  /** Attempts allowed before the message goes to dead_letters (default per job). */
  max_attempts: z.number().int().positive().optional(),
})

export type Envelope = z.infer<typeof envelopeSchema>

export const QUEUES = { jobs: 'jobs', events: 'events', deadLetters: 'dead_letters' } as const
