import type { JobDefinition } from './job.ts'
import { messageCreated } from './jobs/message-created.ts'

/** Every job the workers know, by name. A message naming anything else is a dead letter. */
export const JOBS: ReadonlyMap<string, JobDefinition> = new Map(
  [messageCreated as unknown as JobDefinition].map((j) => [j.name, j]),
)

export const queuesOf = (jobs: ReadonlyMap<string, JobDefinition>) => [...new Set([...jobs.values()].map((j) => j.queue))]
