/**
 * Reads pgmq queues and runs jobs, at least once: a message is archived only after its handler
 * succeeds; a failure hides it again with backoff until its job's max attempts, then it moves to
 * dead_letters with its last error. Every attempt writes one job_logs row.
 *
 * Per queue, a number of reader loops (between min and max concurrency, scaled by depth and age)
 * each read a batch, run its handlers concurrently, and settle the batch in a few statements.
 * Idle loops sleep until pgmq's insert NOTIFY or the safety-net poll.
 */
import { hostname } from 'node:os'
import type { Deps } from '../../src/deps.ts'
import { holdHandle } from '../../src/open-handles.ts'
import { ensureNotifyInsert, insertChannel, metrics, read, setVt } from '../../src/tiers/queue/pgmq.ts'
import { recordHeartbeat } from '../../src/tiers/queue/schedules.ts'
import type { JobMap } from '../job.ts'
import { targetConcurrency } from './policy.ts'
import { runMessage, type RunEnv } from './run-message.ts'
import { settle } from './settle.ts'

export interface WorkerOptions {
  queues: string[]
  jobs: JobMap
  batchSize?: number
  /** Seconds a read message stays hidden from other workers (extended while its handler runs). */
  visibilityTimeout?: number
  /** Safety-net poll when no NOTIFY arrives. */
  pollIntervalMs?: number
  /** First retry delay; doubles per attempt, with jitter, capped at maxBackoffSeconds. */
  baseBackoffSeconds?: number
  maxBackoffSeconds?: number
  minConcurrency?: number
  maxConcurrency?: number
  /** How often concurrency is reconsidered. */
  scaleIntervalMs?: number
  /** A message older than this asks for another reader. */
  maxAgeSeconds?: number
  /** How often a started worker records that it is alive (what /ready and edp_worker_heartbeat_age_seconds read). */
  heartbeatIntervalMs?: number
}

export interface QueueCounters {
  concurrency: number
  succeeded: number
  retried: number
  dead: number
}

interface Loop {
  stopping: boolean
  done: Promise<void>
}

export class Worker {
  readonly id = `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`
  readonly #o: Required<WorkerOptions>
  readonly #abort = new AbortController()
  readonly #loops = new Map<string, Loop[]>()
  /** Every loop not yet finished, including ones told to stop by a scale-down. */
  readonly #running = new Set<Promise<void>>()
  readonly #waiters = new Map<string, (() => void)[]>()
  /** Queues that were woken while no loop was waiting: the next loop to sleep reads again at once. */
  readonly #woken = new Set<string>()
  readonly #inFlight = new Map<string, Set<string>>()
  readonly #counters = new Map<string, QueueCounters>()
  #unlisten: (() => Promise<void>)[] = []
  #scaler: ReturnType<typeof setInterval> | undefined
  #heartbeat: ReturnType<typeof setInterval> | undefined
  #stopping = false
  #released: (() => void) | undefined

  constructor(
    private readonly deps: Deps,
    options: WorkerOptions,
  ) {
    this.#o = {
      batchSize: 50,
      visibilityTimeout: 30,
      pollIntervalMs: 1_000,
      baseBackoffSeconds: 2,
      maxBackoffSeconds: 600,
      minConcurrency: 1,
      maxConcurrency: 4,
      scaleIntervalMs: 1_000,
      maxAgeSeconds: 5,
      heartbeatIntervalMs: 5_000,
      ...options,
    }
    for (const q of this.#o.queues) {
      this.#counters.set(q, { concurrency: 0, succeeded: 0, retried: 0, dead: 0 })
      this.#inFlight.set(q, new Set())
    }
  }

  get #env(): RunEnv {
    return {
      deps: this.deps,
      log: this.deps.log,
      jobs: this.#o.jobs,
      visibilityTimeout: this.#o.visibilityTimeout,
      baseBackoffSeconds: this.#o.baseBackoffSeconds,
      maxBackoffSeconds: this.#o.maxBackoffSeconds,
      signal: this.#abort.signal,
    }
  }

  counters(): Record<string, QueueCounters> {
    return Object.fromEntries(this.#counters)
  }

  async start(): Promise<void> {
    this.#released = holdHandle('worker', `worker ${this.id} on ${this.#o.queues.join(', ')}`)
    for (const queue of this.#o.queues) {
      if (await ensureNotifyInsert(this.deps.tiers.queue, queue)) {
        this.deps.log.warn({ queue }, 'insert notifications were off (reset by a crash?); turned them back on')
      }
      this.#unlisten.push(await this.deps.tiers.queue.listen(insertChannel(queue), () => this.#wake(queue)))
      this.#resize(queue, this.#o.minConcurrency)
    }
    this.#scaler = setInterval(() => void this.#rescale(), this.#o.scaleIntervalMs)
    this.#scaler.unref?.()
    const beat = () =>
      recordHeartbeat(this.deps.tiers.queue, this.id).catch((err) => this.deps.log.warn({ err }, 'could not record the worker heartbeat'))
    await beat()
    this.#heartbeat = setInterval(() => void beat(), this.#o.heartbeatIntervalMs)
    this.#heartbeat.unref?.()
    this.deps.log.info({ worker: this.id, queues: this.#o.queues }, 'worker started')
  }

  /**
   * Stops reading and waits up to timeoutMs for in-flight batches. Whatever is still running then
   * is released (its messages become visible at once) and its handlers are told to abort.
   * Returns how many messages it released.
   */
  async stop({ timeoutMs = 10_000 } = {}): Promise<number> {
    this.#stopping = true
    clearInterval(this.#scaler)
    clearInterval(this.#heartbeat)
    for (const loops of this.#loops.values()) for (const l of loops) l.stopping = true
    for (const q of this.#o.queues) this.#wake(q)
    let bound: ReturnType<typeof setTimeout> | undefined
    const finished = await Promise.race([
      Promise.all(this.#running).then(() => true),
      new Promise<false>((r) => {
        bound = setTimeout(() => r(false), timeoutMs)
      }),
    ]).finally(() => clearTimeout(bound))
    let released = 0
    if (!finished) {
      this.#abort.abort(new Error('worker shutting down'))
      for (const [queue, ids] of this.#inFlight) {
        for (const id of ids) {
          await setVt(this.deps.tiers.queue, queue, id, 0).catch(() => {})
          released++
        }
        ids.clear()
      }
    }
    await Promise.all(this.#unlisten.map((u) => u().catch(() => {})))
    this.#unlisten = []
    this.#released?.()
    this.deps.log.info({ worker: this.id, released }, 'worker stopped')
    return released
  }

  /** Reads and settles at most one batch; returns how many messages it handled. */
  async runOnce(queue: string): Promise<number> {
    const batch = await read(this.deps.tiers.queue, queue, this.#o.visibilityTimeout, this.#o.batchSize)
    if (batch.length === 0) return 0
    const inFlight = this.#inFlight.get(queue)!
    for (const m of batch) inFlight.add(m.msg_id)
    const pending = new Set(batch.map((m) => m.msg_id))
    const lease = this.#keepLeased(queue, pending)
    try {
      const env = this.#env
      const outcomes = await Promise.all(
        batch.map((m) => runMessage(env, queue, m).finally(() => pending.delete(m.msg_id))),
      )
      // Released during a timed-out shutdown: another worker owns these now.
      if (this.#abort.signal.aborted) return batch.length
      await settle(this.deps.tiers.queue, queue, this.id, outcomes)
      const c = this.#counters.get(queue)!
      for (const o of outcomes) {
        if (o.outcome === 'succeeded') c.succeeded++
        else if (o.outcome === 'retrying') c.retried++
        else c.dead++
      }
      return batch.length
    } finally {
      clearInterval(lease)
      for (const m of batch) inFlight.delete(m.msg_id)
    }
  }

  /**
   * While handlers of a batch run past half the visibility timeout, push it out again for the
   * ones still running, so no other worker picks them up meanwhile. One timer per batch.
   */
  #keepLeased(queue: string, pending: Set<string>) {
    const vt = this.#o.visibilityTimeout
    const timer = setInterval(() => {
      for (const id of pending) {
        setVt(this.deps.tiers.queue, queue, id, vt).catch((err) =>
          this.deps.log.warn({ err, queue, msg_id: id }, 'could not extend a lease'),
        )
      }
    }, (vt * 1000) / 2)
    timer.unref?.()
    return timer
  }

  #wake(queue: string) {
    const waiting = this.#waiters.get(queue) ?? []
    this.#waiters.set(queue, [])
    // A notification that lands while every loop is mid-read would otherwise be lost until the poll.
    if (waiting.length === 0) this.#woken.add(queue)
    for (const w of waiting) w()
  }

  #sleep(queue: string): Promise<void> {
    if (this.#woken.delete(queue) && !this.#stopping) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.#o.pollIntervalMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#waiters.set(queue, [...(this.#waiters.get(queue) ?? []), done])
    })
  }

  #spawn(queue: string): Loop {
    const loop: Loop = { stopping: false, done: Promise.resolve() }
    loop.done = (async () => {
      while (!loop.stopping && !this.#stopping) {
        let handled = 0
        try {
          handled = await this.runOnce(queue)
        } catch (err) {
          this.deps.log.error({ err, queue }, 'batch failed; retrying after the poll interval')
        }
        if (handled < this.#o.batchSize && !loop.stopping) await this.#sleep(queue)
      }
    })()
    this.#running.add(loop.done)
    void loop.done.finally(() => this.#running.delete(loop.done))
    return loop
  }

  #resize(queue: string, target: number) {
    const loops = (this.#loops.get(queue) ?? []).filter((l) => !l.stopping)
    while (loops.length < target) loops.push(this.#spawn(queue))
    while (loops.length > target) loops.pop()!.stopping = true
    this.#loops.set(queue, loops)
    this.#counters.get(queue)!.concurrency = loops.length
  }

  async #rescale() {
    if (this.#stopping) return
    for (const queue of this.#o.queues) {
      try {
        const m = await metrics(this.deps.tiers.queue, queue)
        const current = this.#counters.get(queue)!.concurrency
        const target = targetConcurrency({
          depth: Number(m.queue_length),
          oldestAgeSeconds: m.oldest_msg_age_sec,
          current,
          min: this.#o.minConcurrency,
          max: this.#o.maxConcurrency,
          batchSize: this.#o.batchSize,
          maxAgeSeconds: this.#o.maxAgeSeconds,
        })
        if (target !== current && !this.#stopping) {
          this.#resize(queue, target)
          this.deps.log.debug({ queue, from: current, to: target }, 'concurrency changed')
        }
      } catch (err) {
        this.deps.log.warn({ err, queue }, 'could not read queue metrics for scaling')
      }
    }
  }
}
