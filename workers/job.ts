import type { z } from 'zod'
import type { Logger } from 'pino'
import type { Deps } from '../src/deps.ts'

export interface JobContext {
  deps: Deps
  log: Logger
  /** 1 on the first delivery; pgmq's read_ct. */
  attempt: number
  msgId: string
}

/** One job: its payload schema and an idempotent handler (delivery is at least once). */
export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string
  queue: string
  schema: S
  maxAttempts: number
  handler: (payload: z.infer<S>, ctx: JobContext) => Promise<void>
}

export const defineJob = <S extends z.ZodType>(job: JobDefinition<S>) => job
