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

/**
 * Worker liveness rides on the same table (sql/ gets no new table for it): one row under a name
 * no job can have, whose `slot` is the last beat of any worker process, in the database's clock.
 */
const HEARTBEAT = 'worker heartbeat'

/** Records that a worker process is alive; the latest beat of any worker wins. */
export async function recordHeartbeat(q: Queryable, workerId: string): Promise<void> {
  await q.query(
    `INSERT INTO queue.schedules (name, slot, claimed_by) VALUES ($1, now(), $2)
     ON CONFLICT (name) DO UPDATE SET slot = excluded.slot, claimed_by = excluded.claimed_by, claimed_at = now()`,
    [HEARTBEAT, workerId],
  )
}

/** Seconds since any worker's last beat, and which worker it was; null when none ever beat. */
export async function lastHeartbeat(q: Queryable): Promise<{ age_seconds: number; worker: string } | null> {
  const rows = await q.query<{ age_seconds: number; worker: string }>(
    `SELECT extract(epoch FROM now() - slot)::float8 AS age_seconds, claimed_by AS worker FROM queue.schedules WHERE name = $1`,
    [HEARTBEAT],
  )
  return rows[0] ?? null
}
