/**
 * A value computed at most once per period, however many callers ask: while a computation runs,
 * every caller shares it (single flight); afterwards its result (or failure) serves until it is
 * too old. What /metrics and /ready use so that probes cannot load the databases or the event loop.
 */

/** The last result of `load`, reused while fresh; one load at a time, shared by every caller. */
export class Cached<T> {
  #at = Number.NEGATIVE_INFINITY
  #value: Promise<T> | undefined
  #loading = false

  constructor(
    private readonly load: () => Promise<T>,
    private readonly now: () => number,
  ) {}

  /** The cached value, or a fresh load when there is none or it is `maxAgeMs` old (a failed load is cached too). */
  get(maxAgeMs: number): Promise<T> {
    if (!this.#value || (!this.#loading && this.now() - this.#at >= maxAgeMs)) return this.refresh()
    return this.#value
  }

  /** Loads again now, unless a load is already running (then its result). */
  refresh(): Promise<T> {
    if (this.#loading) return this.#value!
    this.#loading = true
    this.#at = this.now()
    this.#value = this.load().finally(() => (this.#loading = false))
    this.#value.catch(() => {}) // the callers see the failure; nobody waiting is no unhandled rejection
    return this.#value
  }

  /** Resolves once no load is running. */
  async idle(): Promise<void> {
    if (this.#loading) await this.#value!.catch(() => {})
  }
}
