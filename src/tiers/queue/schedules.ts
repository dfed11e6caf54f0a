import type { Queryable } from '../../db/types.ts'

/**
 * Claims one slot of a periodic job: true for exactly one caller per (name, slot), however many
 * processes ask, and never for a slot older than one already claimed (a process whose clock lags
 * cannot run an interval twice). Run it in the transaction that enqueues the job, so a claimed
 * slot always has its job.
 */
export async function claimSlot(q: Queryable, name: string, slot: Date, claimedBy: string): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO queue.schedules AS s (name, slot, claimed_by) VALUES ($1, $2, $3)
     ON CONFLICT (name) DO UPDATE SET slot = excluded.slot, claimed_by = excluded.claimed_by, claimed_at = now()
      WHERE s.slot < excluded.slot
     RETURNING name`,
    [name, slot, claimedBy],
  )
  return rows.length > 0
}
