/**
 * Master-key rotation: every data key not yet wrapped by the current master is unwrapped with the
 * previous one and wrapped again, a batch at a time; content is never touched. Each re-wrap is a
 * compare-and-set on the fingerprint it read, so two rotations at once, or a tenant deleted
 * meanwhile, leave every key either re-wrapped once or destroyed. Until it is done, processes
 * given both keys (CONTENT_MASTER_KEY and CONTENT_MASTER_KEY_PREVIOUS) read everything.
 */
import { unwrapDataKey, wrapDataKey, type MasterKeys } from '../content-master-key.ts'
import type { Queryable } from '../db/types.ts'
import { keyCounts, keysToRewrap, rewrapTenantKey } from '../tiers/content/keys.ts'
import { unsealedCounts } from '../tiers/content/unsealed.ts'
import { NIL_UUID } from '../ids.ts'

export interface Rotation {
  rewrapped: number
  /** Keys wrapped by a master this process was not given: named by fingerprint, left as they are. */
  unknown: { tenant_id: string; master_fingerprint: string | null }[]
}


export async function rewrapAll(db: Queryable, master: MasterKeys, batch = 500): Promise<Rotation> {
  const out: Rotation = { rewrapped: 0, unknown: [] }
  let after = NIL_UUID
  for (;;) {
    const rows = await keysToRewrap(db, master.current.fingerprint, after, batch)
    for (const r of rows) {
      const old = master.previous?.fingerprint === r.master_fingerprint ? master.previous : null
      const raw = old && (await unwrapDataKey(old, r.tenant_id, r.key_id, r.wrapped_key))
      if (!raw) {
        out.unknown.push({ tenant_id: r.tenant_id, master_fingerprint: r.master_fingerprint })
        continue
      }
      const wrapped = await wrapDataKey(master.current, r.tenant_id, r.key_id, raw)
      raw.fill(0)
      if (await rewrapTenantKey(db, { tenantId: r.tenant_id, fromFingerprint: r.master_fingerprint!, wrapped, fingerprint: master.current.fingerprint })) {
        out.rewrapped++
      }
    }
    if (rows.length < batch) return out
    after = rows.at(-1)!.tenant_id
  }
}

/** What `keys status` shows: keys per master fingerprint (null: destroyed) and rows still in the clear. */
export async function keyStatus(db: Queryable, master: MasterKeys | null) {
  const keys = await keyCounts(db)
  return {
    master: master && { current: master.current.fingerprint, previous: master.previous?.fingerprint ?? null },
    keys: keys.map((k) => ({ master_fingerprint: k.master_fingerprint ?? 'destroyed', keys: k.keys })),
    unsealed: await unsealedCounts(db),
  }
}
