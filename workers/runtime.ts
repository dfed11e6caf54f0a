/**
 * Reads pgmq queues and runs jobs. At least once: a message is archived only after its handler
 * succeeds; a failure hides it again with exponential backoff (set_vt) until max attempts, then
 * it moves to dead_letters with its last error. Every attempt writes one job_logs row.
 */
import { hostname } from 'node:os'
import type { Deps } from '../src/deps.ts'
import { envelopeSchema, QUEUES } from '../src/events/envelope.ts'
import { archive, ensureNotifyInsert, insertChannel, read, send, setVt, type QueueMessage } from '../src/tiers/queue/pgmq.ts'
import { insertJobLog, type JobOutcome } from '../src/tiers/queue/job-logs.ts'
import type { JobDefinition } from './job.ts'

export interface WorkerOptions {
  queues: string[]
  jobs: ReadonlyMap<string, JobDefinition>
  batchSize?: number
  /** Seconds a read message stays hidden from other workers. */
  visibilityTimeout?: number
  /** Safety-net poll when no NOTIFY arrives. */
  pollIntervalMs?: number
  /** First retry delay; doubles per attempt, with jitter, capped at maxBackoffSeconds. */
  baseBackoffSeconds?: number
  maxBackoffSeconds?: number
}

export function backoffSeconds(attempt: number, base: number, cap: number, random = Math.random): number {
  const exp = Math.min(cap, base * 2 ** Math.max(0, attempt - 1))
  return Math.max(1, Math.round(exp / 2 + random() * (exp / 2)))
}

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 2000)

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  #stopping = false
  #loops: Promise<void>[] = []
  #wake = new Map<string, () => void>()
  #unlisten: (() => Promise<void>)[] = []
  readonly #o: Required<WorkerOptions>

  constructor(
    private readonly deps: Deps,
    options: WorkerOptions,
  ) {
    this.#o = { batchSize: 20, visibilityTimeout: 30, pollIntervalMs: 1_000, baseBackoffSeconds: 2, maxBackoffSeconds: 600, ...options }
  }

  async start(): Promise<void> {
    for (const queue of this.#o.queues) {
      if (await ensureNotifyInsert(this.deps.tiers.queue, queue)) {
        this.deps.log.warn({ queue }, 'insert notifications were off (reset by a crash?); turned them back on')
      }
      this.#unlisten.push(await this.deps.tiers.queue.listen(insertChannel(queue), () => this.#wake.get(queue)?.()))
      this.#loops.push(this.#loop(queue))
    }
    this.deps.log.info({ worker: this.id, queues: this.#o.queues }, 'worker started')
  }

  /** Stops reading, lets the current batch finish, and returns. Unread messages stay queued. */
  async stop(): Promise<void> {
    this.#stopping = true
    for (const wake of this.#wake.values()) wake()
    await Promise.all(this.#unlisten.map((u) => u().catch(() => {})))
    await Promise.all(this.#loops)
  }

  /** Processes at most one batch from a queue; returns how many messages it handled. */
  async runOnce(queue: string): Promise<number> {
    const batch = await read(this.deps.tiers.queue, queue, this.#o.visibilityTimeout, this.#o.batchSize)
    for (const msg of batch) await this.#process(queue, msg)
    return batch.length
  }

  async #loop(queue: string): Promise<void> {
    while (!this.#stopping) {
      let handled = 0
      try {
        handled = await this.runOnce(queue)
      } catch (err) {
        this.deps.log.error({ err, queue }, 'queue read failed; retrying after the poll interval')
      }
      if (handled === this.#o.batchSize || this.#stopping) continue
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#o.pollIntervalMs)
        this.#wake.set(queue, () => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  async #process(queue: string, msg: QueueMessage): Promise<void> {
    const started = new Date()
    const envelope = envelopeSchema.safeParse(msg.message)
    const jobName = envelope.success ? envelope.data.job : '(malformed)'
    const job = envelope.success ? this.#o.jobs.get(jobName) : undefined
    const log = (outcome: JobOutcome, error: string | null) =>
      insertJobLog(this.deps.tiers.queue, {
        queue,
        msg_id: msg.msg_id,
        job: jobName,
        attempt: msg.read_ct,
        outcome,
        error,
        duration_ms: Math.round(Date.now() - started.getTime()),
        worker_id: this.id,
        started_at: started,
      })

    if (!envelope.success || !job) {
      return this.#deadLetter(queue, msg, jobName, envelope.success ? `unknown job ${jobName}` : 'malformed envelope', log)
    }
    const payload = job.schema.safeParse(envelope.data.payload)
    if (!payload.success) {
      // Retrying cannot fix a payload that does not match its schema.
      return this.#deadLetter(queue, msg, jobName, `invalid payload: ${payload.error.message}`, log)
    }
    try {
      await job.handler(payload.data, {
        deps: this.deps,
        log: this.deps.log.child({ job: jobName, msg_id: msg.msg_id }),
        attempt: msg.read_ct,
        msgId: msg.msg_id,
      })
    } catch (err) {
      const maxAttempts = envelope.data.max_attempts ?? job.maxAttempts
      if (msg.read_ct >= maxAttempts) return this.#deadLetter(queue, msg, jobName, errorText(err), log)
      const delay = backoffSeconds(msg.read_ct, this.#o.baseBackoffSeconds, this.#o.maxBackoffSeconds)
      await setVt(this.deps.tiers.queue, queue, msg.msg_id, delay)
      await log('retrying', errorText(err))
      this.deps.log.warn({ err, job: jobName, msg_id: msg.msg_id, attempt: msg.read_ct, retry_in_s: delay }, 'job failed')
      return
    }
    await archive(this.deps.tiers.queue, queue, [msg.msg_id])
    await log('succeeded', null)
  }

  async #deadLetter(
    queue: string,
    msg: QueueMessage,
    job: string,
    error: string,
    log: (outcome: JobOutcome, error: string | null) => Promise<void>,
  ) {
    await this.deps.tiers.queue.transaction(async (tx) => {
      await send(tx, QUEUES.deadLetters, { queue, msg_id: msg.msg_id, job, error, message: msg.message, failed_at: new Date() })
      await archive(tx, queue, [msg.msg_id])
    })
    await log('dead', error)
    this.deps.log.error({ job, msg_id: msg.msg_id, queue, error }, 'job dead-lettered')
  }
}
