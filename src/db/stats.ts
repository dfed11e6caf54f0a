/**
 * What each open database is doing, for /metrics: calls in flight against its pool size (a
 * transaction holds one connection for its whole length, so it counts as one call), and the
 * duration of every call to whoever observes. Counted where the calls are made, since neither
 * driver exposes its pool's queue.
 */
export interface PoolStats {
  /** Connections the pool may open (PGlite: one). */
  max: number
  /** Calls started and not finished: those beyond `max` wait for a connection. */
  inFlight: number
}

type Observer = (label: string, seconds: number) => void
const observers = new Set<Observer>()

/** Receives every call's duration, labelled with its database; returns the unsubscribe. */
export function observeQueries(o: Observer): () => void {
  observers.add(o)
  return () => observers.delete(o)
}

/** A counter for one database: wrap each call in `timed`. */
export function poolStats(label: string, max: number) {
  const stats: PoolStats = { max, inFlight: 0 }
  async function timed<T>(call: () => Promise<T>): Promise<T> {
    stats.inFlight++
    const started = performance.now()
    try {
      return await call()
    } finally {
      stats.inFlight--
      const seconds = (performance.now() - started) / 1000
      for (const o of observers) o(label, seconds)
    }
  }
  return { stats: () => ({ ...stats }), timed }
}
