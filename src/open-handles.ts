/**
 * What a process holds open: database pools, LISTEN subscriptions, workers and their timers. Each
 * registers while open and releases when closed, so a shutdown can name what it is still waiting
 * for and the test suite can fail a file that leaves one behind.
 */
export type HandleKind = 'pool' | 'listen' | 'worker' | 'timer'

export interface OpenHandle {
  kind: HandleKind
  label: string
}

const open = new Map<symbol, OpenHandle>()

/** Registers an open handle; call the returned function (once or more) when it closes. */
export function holdHandle(kind: HandleKind, label: string): () => void {
  const key = Symbol(label)
  open.set(key, { kind, label })
  return () => void open.delete(key)
}

export const openHandles = (): OpenHandle[] => [...open.values()]

/** A driver's unsubscribe, wrapped so the LISTEN counts as open until it is called. */
export function heldListen(label: string, unlisten: () => Promise<unknown>): () => Promise<void> {
  const release = holdHandle('listen', label)
  return async () => {
    release()
    await unlisten()
  }
}

/** A pool's close, wrapped so the pool counts as open until it is called. */
export function heldPool(label: string, close: () => Promise<unknown>): () => Promise<void> {
  const release = holdHandle('pool', label)
  return async () => {
    release()
    await close()
  }
}
