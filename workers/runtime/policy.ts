/** Pure decisions of the runtime, kept apart so they can be tested without a queue. */

/** Exponential backoff with jitter in [exp/2, exp], at least 1 s, capped. */
export function backoffSeconds(attempt: number, base: number, cap: number, random = Math.random): number {
  const exp = Math.min(cap, base * 2 ** Math.max(0, attempt - 1))
  return Math.max(1, Math.min(cap, Math.round(exp / 2 + random() * (exp / 2))))
}

export interface ScaleInput {
  depth: number
  oldestAgeSeconds: number | null
  current: number
  min: number
  max: number
  batchSize: number
  /** A message waiting longer than this asks for one more reader even if the backlog is small. */
  maxAgeSeconds: number
}

/**
 * How many concurrent readers a queue should have: enough for the backlog in batches, one more
 * while messages are getting old, and shrinking one step at a time so a burst does not thrash.
 */
export function targetConcurrency(s: ScaleInput): number {
  const forBacklog = Math.ceil(s.depth / s.batchSize)
  const aging = s.oldestAgeSeconds !== null && s.oldestAgeSeconds > s.maxAgeSeconds ? s.current + 1 : 0
  const wanted = Math.max(forBacklog, aging, s.min)
  const next = wanted < s.current ? s.current - 1 : wanted
  return Math.min(s.max, Math.max(s.min, next))
}
