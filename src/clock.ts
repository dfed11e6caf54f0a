/**
 * The process's sense of "now" for rules measured in time (orphan grace, the too-late ref, report
 * freshness, maintenance slots). Injected through Deps so a test can move time instead of sleeping.
 * Timestamps the databases write (created, enqueued_at, vt) use the database clock, not this one.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
}

export const systemClock: Clock = { now: () => Date.now() }
