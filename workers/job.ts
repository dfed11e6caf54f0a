import type { Logger } from 'pino'
import type { z } from 'zod'
import type { Deps } from '../src/deps.ts'
import { JOB_SPECS, type JobName, type JobSpec } from '../src/jobs/specs.ts'

export interface JobContext {
  deps: Deps
  log: Logger
  /** 1 on the first delivery; pgmq's read_ct. */
  attempt: number
  msgId: string
  /** Aborted when shutdown gives up waiting; long handlers should stop and let the message reappear. */
  signal: AbortSignal
}

/** One job: where it queues, its payload schema, and an idempotent handler (delivery is at least once). */
export interface JobDefinition<S extends z.ZodType = z.ZodType> extends JobSpec<S> {
  name: string
  handler: (payload: z.infer<S>, ctx: JobContext) => Promise<void>
}

/** A job from the payload registry: its queue, schema and attempts come from JOB_SPECS. */
export function defineJob<J extends JobName>(
  name: J,
  handler: JobDefinition<(typeof JOB_SPECS)[J]['schema']>['handler'],
): JobDefinition<(typeof JOB_SPECS)[J]['schema']> {
  return { name, ...JOB_SPECS[name], handler }
}

/** Any map of jobs by name; the runtime only needs this shape (tests pass their own jobs). */
export type JobMap = ReadonlyMap<string, JobDefinition>

export const jobMap = (jobs: JobDefinition<any>[]): JobMap => new Map(jobs.map((j) => [j.name, j as JobDefinition]))
