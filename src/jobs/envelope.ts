import { z } from 'zod'

/** Every queue message is an envelope naming its job; the job's own schema checks the payload. */
export const envelopeSchema = z.object({
  job: z.string().min(1),
  payload: z.unknown(),
  /** Attempts allowed before the message goes to dead_letters (default per job). */
  max_attempts: z.number().int().positive().optional(),
  /** Set by the maintenance scheduler: the start of the interval this run was enqueued for. */
  slot: z.iso.datetime({ offset: true }).optional(),
  /**
   * The request that caused the job (src/request-context.ts), for its log lines. Informational:
   * a malformed one is dropped, never a reason to dead-letter the job.
   */
  request_id: z.string().max(128).optional().catch(undefined),
  client_request_id: z.string().max(128).optional().catch(undefined),
})

export type Envelope = z.infer<typeof envelopeSchema>
