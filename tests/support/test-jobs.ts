/**
 * Jobs used only by the runtime tests. `test.effect` is idempotent the way real handlers must be:
 * its effect (a row per key) is applied once however often it runs; every run is also counted.
 */
import { z } from 'zod'
import type { Queryable } from '../../src/db/types.ts'
import { QUEUES } from '../../src/tiers/queue/queues.ts'
import { jobMap, type JobDefinition } from '../../workers/job.ts'

export const createEffectTables = (q: Queryable) =>
  q.exec(`CREATE TABLE IF NOT EXISTS public.test_effects (key text PRIMARY KEY, pid int NOT NULL);
          CREATE TABLE IF NOT EXISTS public.test_runs (id bigserial PRIMARY KEY, key text NOT NULL, pid int NOT NULL);
          TRUNCATE public.test_effects, public.test_runs;`)

export const effectJob = (onRan?: (key: string) => void, { sleep = true } = {}): JobDefinition =>
  ({
    name: 'test.effect',
    queue: QUEUES.jobs,
    maxAttempts: 5,
    schema: z.object({ key: z.string(), sleep_ms: z.number().int().min(0).default(0) }),
    async handler(p: { key: string; sleep_ms: number }, { deps }) {
      if (sleep && p.sleep_ms) await Bun.sleep(p.sleep_ms)
      const q = deps.tiers.queue
      await q.query(`INSERT INTO public.test_runs (key, pid) VALUES ($1, $2)`, [p.key, process.pid])
      await q.query(`INSERT INTO public.test_effects (key, pid) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [p.key, process.pid])
      onRan?.(p.key)
    },
  }) as JobDefinition

export const testJobs = (onRan?: (key: string) => void, options?: { sleep?: boolean }) => jobMap([effectJob(onRan, options)])
