/**
 * Group commit for the message write path: messages that arrive while a write is running wait and
 * go together in the next one, sharing one content transaction and one OLTP transaction (one
 * commit each, however many messages), instead of two commits per message. A message that
 * arrives when nothing is running starts a write at once, so a lone client waits for no window.
 *
 * Each caller is answered only once its own rows committed, and only about its own rows: when a
 * shared transaction fails, every member is written again on its own, so a message the database
 * refuses fails alone. The order holds as on the single path: content commits before the refs
 * that name it, and a ref commits with its message.created job.
 */
import type { Deps } from '../deps.ts'
import { withRequestIds } from '../request-context.ts'
import { commitContent, commitRefs, type PreparedWrite, type WriteFaults, type Written } from './message-write.ts'

interface Member {
  p: PreparedWrite
  bytes: number
  faults: WriteFaults
  resolve: (w: Written) => void
  reject: (err: unknown) => void
}

export interface GroupCommitOptions {
  /** Messages in one group at most (the batch route's cap, so a batch can go as one group). */
  maxMessages?: number
  /** Stored bytes (bodies and attachments) in one group at most; a larger message goes alone. */
  maxBytes?: number
  /** Groups written at once: while one commits its refs, the next can commit its content. */
  inFlight?: number
}

const sizeOf = (p: PreparedWrite) => p.body.stored_size_bytes + p.attachments.reduce((n, a) => n + a.bytes.length, 0)

export class GroupCommit {
  readonly #waiting: Member[] = []
  #running = 0
  readonly #maxMessages: number
  readonly #maxBytes: number
  readonly #inFlight: number

  constructor(
    private readonly deps: Deps,
    { maxMessages = 500, maxBytes = 16 * 1024 * 1024, inFlight = 2 }: GroupCommitOptions = {},
  ) {
    this.#maxMessages = maxMessages
    this.#maxBytes = maxBytes
    this.#inFlight = inFlight
  }

  /** Stores one prepared message with whatever else is waiting; resolves once its own ref committed. */
  write(p: PreparedWrite, faults: WriteFaults = {}): Promise<Written> {
    return new Promise<Written>((resolve, reject) => {
      this.#waiting.push({ p, bytes: sizeOf(p), faults, resolve, reject })
      // A microtask, not a timer: requests already parsed in this turn join, and nobody waits a window.
      if (this.#running < this.#inFlight) queueMicrotask(() => this.#next())
    })
  }

  /** Stores several messages (a batch request); each settles on its own, in the order given. */
  writeAll(ps: readonly PreparedWrite[]): Promise<PromiseSettledResult<Written>[]> {
    return Promise.allSettled(ps.map((p) => this.write(p)))
  }

  #next(): void {
    if (this.#running >= this.#inFlight || this.#waiting.length === 0) return
    const group = this.#take()
    this.#running++
    // The group's own lines and retries belong to no single request (each member keeps its ids for its job).
    void withRequestIds(undefined, () => this.#flush(group)).finally(() => {
      this.#running--
      this.#next()
    })
  }

  #take(): Member[] {
    let bytes = 0
    let n = 0
    while (n < this.#waiting.length && n < this.#maxMessages) {
      bytes += this.#waiting[n]!.bytes
      if (n > 0 && bytes > this.#maxBytes) break
      n++
    }
    return this.#waiting.splice(0, n)
  }

  async #flush(group: Member[]): Promise<void> {
    if (group.length === 1) return this.#alone(group[0]!)
    let contentWritten: number
    try {
      contentWritten = await commitContent(this.deps, group.map((g) => g.p))
    } catch {
      // Nothing of the group committed: each member alone, so only the one the database refuses fails.
      await Promise.all(group.map((g) => this.#alone(g)))
      return
    }
    const live = await this.#afterContent(group)
    try {
      const written = await commitRefs(this.deps, live.map((g) => g.p), contentWritten)
      live.forEach((g, i) => g.resolve(written[i]!))
    } catch {
      // Their content is committed: each ref alone against the same content (its grace period still counted from then).
      await Promise.all(live.map((g) => settle(g, () => commitRefs(this.deps, [g.p], contentWritten).then((w) => w[0]!))))
    }
  }

  /** Tests' hooks between the two commits; a member whose hook throws fails, its content left an orphan. */
  async #afterContent(group: Member[]): Promise<Member[]> {
    const live: Member[] = []
    for (const g of group) {
      try {
        await g.faults.afterContentWrite?.()
        live.push(g)
      } catch (err) {
        g.reject(err)
      }
    }
    return live
  }

  #alone(g: Member): Promise<void> {
    return settle(g, async () => {
      const contentWritten = await commitContent(this.deps, [g.p])
      await g.faults.afterContentWrite?.()
      return (await commitRefs(this.deps, [g.p], contentWritten))[0]!
    })
  }
}

async function settle(g: Member, fn: () => Promise<Written>): Promise<void> {
  try {
    g.resolve(await fn())
  } catch (err) {
    g.reject(err)
  }
}
