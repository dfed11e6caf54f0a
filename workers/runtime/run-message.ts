/** Runs one queue message through its job and says what should happen to it; writes nothing itself. */
import type { Logger } from 'pino'
import type { Deps } from '../../src/deps.ts'
import { errorLine } from '../../src/error-summary.ts'
import { envelopeSchema } from '../../src/jobs/envelope.ts'
import { withRequestIds } from '../../src/request-context.ts'
import type { QueueMessage } from '../../src/tiers/queue/pgmq.ts'
import type { JobMap } from '../job.ts'
import { backoffSeconds } from './policy.ts'
import type { Outcome } from './settle.ts'

export interface RunEnv {
  deps: Deps
  log: Logger
  jobs: JobMap
  visibilityTimeout: number
  baseBackoffSeconds: number
  maxBackoffSeconds: number
  signal: AbortSignal
}

export async function runMessage(env: RunEnv, queue: string, msg: QueueMessage): Promise<Outcome> {
  const startedAt = new Date()
  const t0 = performance.now()
  const done = (job: string, outcome: Outcome['outcome'], error: string | null, retryIn?: number): Outcome => ({
    msg,
    job,
    outcome,
    error,
    retryIn,
    startedAt,
    durationMs: Math.round(performance.now() - t0),
  })

  const envelope = envelopeSchema.safeParse(msg.message)
  if (!envelope.success) return done('(malformed)', 'dead', 'malformed envelope')
  const name = envelope.data.job
  const job = env.jobs.get(name)
  if (!job) return done(name, 'dead', `unknown job ${name}`)
  const payload = job.schema.safeParse(envelope.data.payload)
  // Retrying cannot fix a payload that does not match its schema.
  if (!payload.success) return done(name, 'dead', `invalid payload: ${payload.error.message}`)

  // The job runs in the scope of the request that caused it, or of none: its log lines name that
  // request, and so do the jobs it enqueues in turn.
  const { request_id, client_request_id } = envelope.data
  return withRequestIds(request_id ? { request_id, ...(client_request_id ? { client_request_id } : {}) } : undefined, async () => {
    const log = env.log.child({ job: name, msg_id: msg.msg_id })
    try {
      await job.handler(payload.data, { deps: env.deps, log, attempt: msg.read_ct, msgId: msg.msg_id, signal: env.signal })
      const outcome = done(name, 'succeeded', null)
      log.debug({ attempt: msg.read_ct, duration_ms: outcome.durationMs }, 'job succeeded')
      return outcome
    } catch (err) {
      const maxAttempts = envelope.data.max_attempts ?? job.maxAttempts
      if (msg.read_ct >= maxAttempts) return done(name, 'dead', errorLine(err))
      const retryIn = backoffSeconds(msg.read_ct, env.baseBackoffSeconds, env.maxBackoffSeconds)
      log.warn({ err, attempt: msg.read_ct, retry_in_s: retryIn }, 'job failed')
      return done(name, 'retrying', errorLine(err), retryIn)
    }
  })
}
