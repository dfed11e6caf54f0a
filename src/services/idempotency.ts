/**
 * Writes a client can retry: the first request with an Idempotency-Key claims it; a copy sent
 * while it runs waits (bounded) for its answer; a copy sent later gets the kept answer again
 * without writing; a key used for another request is refused. A claim whose request failed is
 * released, and one whose process died lapses after CLAIM_LEASE_MS (renewed while the request
 * runs), so no failure pins a key. Keys are per owner: a tenant, or OPERATOR_OWNER.
 *
 * What is kept, and when a copy counts as the same request, is the HTTP layer's choice
 * (src/http/idempotency.ts); here are the mechanics, one OLTP statement each.
 */
import type { Deps } from '../deps.ts'
import { newId, sha256Hex } from '../ids.ts'
import { claimKey, completeClaim, extendClaim, getKey, releaseClaim, type KeyRef } from '../tiers/oltp/idempotency-keys.ts'
import { seal, unseal } from './idempotency-seal.ts'

/** How long a key's answer is kept and the key refused for any other request. */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600_000
/** A running claim not renewed for this long belonged to a process that died: a retry takes it. */
export const CLAIM_LEASE_MS = 30_000
/** Answers larger than this are not kept (a replay says so instead). */
export const MAX_KEPT_ANSWER_BYTES = 1024 * 1024
/** The owner of the operator's keys (POST /v1/tenants): no tenant has the nil UUID. */
export const OPERATOR_OWNER = '00000000-0000-0000-0000-000000000000'

export interface IdempotentRequest {
  owner: string
  /** The client's key, as sent. */
  key: string
  requestHash: string
}

export interface KeptAnswer {
  status: number
  contentType: string | null
  body: Uint8Array
}

export interface Claim {
  /** Keeps the answer for replays (or only its status, when the body is too large to keep). */
  keep(answer: KeptAnswer): Promise<void>
  /** Frees the key: the request's answer is not to be replayed. */
  release(): Promise<void>
}

export type Begun =
  | { kind: 'run'; claim: Claim }
  | { kind: 'replay'; answer: KeptAnswer }
  /** The first request is still running after the wait. */
  | { kind: 'in_progress' }
  /** The key answered another request (method, path, type or body) within the window. */
  | { kind: 'reused' }
  /** The first request succeeded, but its answer was too large to keep. */
  | { kind: 'not_kept'; status: number }

const sleep = (ms: number) => {
  let timer: ReturnType<typeof setTimeout> | undefined
  const done = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))
  return { done, cancel: () => clearTimeout(timer) }
}

export class IdempotencyKeys {
  /** Claims this process runs, by owner and key: a copy waits on the promise instead of polling. */
  #running = new Map<string, Promise<void>>()

  constructor(private readonly deps: Deps) {}

  /** Claims the key, or says what holds it; waits up to IDEMPOTENCY_WAIT_S for a running first request. */
  async begin(req: IdempotentRequest): Promise<Begun> {
    const ref: KeyRef = { tenantId: req.owner, keyHash: sha256Hex(req.key) }
    const deadline = performance.now() + this.deps.config.IDEMPOTENCY_WAIT_S * 1000
    let pause = 20
    for (;;) {
      const now = this.deps.clock.now()
      const claimId = newId()
      const claimed = await claimKey(this.deps.tiers.oltp, {
        ...ref,
        requestHash: req.requestHash,
        claimId,
        now: new Date(now),
        claimedUntil: new Date(now + CLAIM_LEASE_MS),
        expiredBefore: new Date(now - IDEMPOTENCY_WINDOW_MS),
      })
      if (claimed) return { kind: 'run', claim: this.#hold(ref, claimId, req) }

      const row = await getKey(this.deps.tiers.oltp, ref)
      if (!row) continue // released between the two statements: claim it again
      if (row.request_hash !== req.requestHash) return { kind: 'reused' }
      if (row.state === 'done') {
        if (row.response === null) return { kind: 'not_kept', status: row.status! }
        const body = unseal(row.response, req.key, req.owner, req.requestHash)
        return { kind: 'replay', answer: { status: row.status!, contentType: row.content_type, body } }
      }
      const left = deadline - performance.now()
      if (left <= 0) return { kind: 'in_progress' }
      const wait = sleep(Math.min(pause, left))
      await Promise.race([wait.done, this.#running.get(`${ref.tenantId}/${ref.keyHash}`)].filter(Boolean))
      wait.cancel()
      pause = Math.min(pause * 2, 250)
    }
  }

  /** A claim this process runs: renewed while it runs, settled once. */
  #hold(ref: KeyRef, claimId: string, req: IdempotentRequest): Claim {
    const { tiers, clock, log } = this.deps
    const local = `${ref.tenantId}/${ref.keyHash}`
    let settle!: () => void
    const running = new Promise<void>((resolve) => (settle = resolve))
    this.#running.set(local, running)
    const renewal = setInterval(() => {
      extendClaim(tiers.oltp, ref, claimId, new Date(clock.now() + CLAIM_LEASE_MS)).catch((err) =>
        log.warn({ err }, 'could not extend an idempotency claim; it lapses unless renewed'),
      )
    }, CLAIM_LEASE_MS / 3)
    const settled = async (write: () => Promise<unknown>) => {
      clearInterval(renewal)
      try {
        await write()
      } finally {
        // A claim of ours that lapsed and was taken over by a later one here must not drop the later one's entry.
        if (this.#running.get(local) === running) this.#running.delete(local)
        settle()
      }
    }
    return {
      keep: (a) =>
        settled(() =>
          completeClaim(tiers.oltp, ref, claimId, {
            status: a.status,
            contentType: a.contentType,
            response: a.body.byteLength > MAX_KEPT_ANSWER_BYTES ? null : seal(a.body, req.key, req.owner, req.requestHash),
          }),
        ),
      release: () => settled(() => releaseClaim(tiers.oltp, ref, claimId)),
    }
  }
}
