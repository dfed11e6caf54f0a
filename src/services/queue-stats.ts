import type { Tiers } from '../db/tiers.ts'
import { QUEUES } from '../events/envelope.ts'
import { countDeadLetters } from '../tiers/queue/dead-letters.ts'
import { outcomeCountsSince } from '../tiers/queue/job-logs.ts'
import { metrics } from '../tiers/queue/pgmq.ts'

export interface QueueStats {
  queue: string
  depth: number
  oldest_age_seconds: number | null
  total_messages: number
  /** Successful jobs per second over the last minute. */
  processed_per_second: number
  /** Failed attempts (retried or dead) per second over the last minute. */
  failed_per_second: number
  dead_letters: number
}

const WINDOW_SECONDS = 60

/** Health of the work queues, for operators (/v1/admin/queues) and metrics. */
export async function queueStats(tiers: Tiers, queues: readonly string[] = [QUEUES.jobs, QUEUES.events]): Promise<QueueStats[]> {
  const since = new Date(Date.now() - WINDOW_SECONDS * 1000)
  const [recent, dead, ...perQueue] = await Promise.all([
    outcomeCountsSince(tiers.queue, since),
    countDeadLetters(tiers.queue),
    ...queues.map((q) => metrics(tiers.queue, q)),
  ])
  return queues.map((queue, i) => {
    const m = perQueue[i]!
    const count = (pred: (o: string) => boolean) =>
      recent.filter((r) => r.queue === queue && pred(r.outcome)).reduce((s, r) => s + r.n, 0)
    return {
      queue,
      depth: Number(m.queue_length),
      oldest_age_seconds: m.oldest_msg_age_sec,
      total_messages: Number(m.total_messages),
      processed_per_second: count((o) => o === 'succeeded') / WINDOW_SECONDS,
      failed_per_second: count((o) => o !== 'succeeded') / WINDOW_SECONDS,
      dead_letters: dead.get(queue) ?? 0,
    }
  })
}
