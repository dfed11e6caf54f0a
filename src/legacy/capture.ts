/**
 * Change capture on the legacy table, for `legacy follow`: a trigger the operator installs with
 * `--install-capture` writes the id of every inserted, updated or deleted row (and of the row an
 * attachment belongs to) into a capture table beside it, in the writer's own transaction. Follow
 * reads pending ids, re-reads those rows as they are now, applies them, and deletes exactly the
 * capture rows it applied. Chosen over a watermark on an `updated` column because a watermark
 * misses a row whose transaction commits after a later-stamped one was read (now() is the
 * transaction's start), misses deletes, and needs the application to set the column; a capture
 * row becomes visible with the change it records, whatever the commit order.
 */
import type { Db } from '../db/types.ts'
import type { Mapping } from './mapping.ts'

const quote = (name: string) => name.split('.').map((p) => `"${p}"`).join('.')

/** schema and table of a `schema.table` or `table` setting (the search path's first schema otherwise). */
function split(table: string): { schema: string | null; name: string } {
  const at = table.indexOf('.')
  return at < 0 ? { schema: null, name: table } : { schema: table.slice(0, at), name: table.slice(at + 1) }
}

/** The capture objects of one legacy table: their names on the legacy side. */
export function captureNames(m: Mapping) {
  const t = split(m.table)
  const prefix = t.schema ? `${t.schema}.` : ''
  return {
    table: `${prefix}edp_capture_${t.name}`,
    fn: `${prefix}edp_capture_${t.name}_fn`,
    attachmentFn: `${prefix}edp_capture_${t.name}_att_fn`,
    trigger: 'edp_capture',
  }
}

export interface PendingChange {
  seq: string
  legacy_id: string
}

export interface CaptureLag {
  installed: boolean
  /** Distinct legacy ids waiting in the capture table. */
  pending: number
  /** Seconds since the oldest pending change was written (legacy clock); 0 when none. */
  oldest_seconds: number
}

export class Capture {
  readonly names: ReturnType<typeof captureNames>

  constructor(
    private readonly db: Db,
    private readonly mapping: Mapping,
  ) {
    this.names = captureNames(mapping)
  }

  async installed(): Promise<boolean> {
    const [r] = await this.db.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [quote(this.names.table)])
    return r!.ok
  }

  /** Creates the capture table and the triggers (idempotent); one transaction, so never half installed. */
  async install(): Promise<void> {
    const m = this.mapping
    const n = this.names
    const id = `"${m.id.column}"`
    const statements = [
      `CREATE TABLE IF NOT EXISTS ${quote(n.table)} (seq bigserial PRIMARY KEY, legacy_id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`,
      `CREATE OR REPLACE FUNCTION ${quote(n.fn)}() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF TG_OP <> 'INSERT' THEN INSERT INTO ${quote(n.table)} (legacy_id) VALUES (OLD.${id}::text); END IF;
         IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR OLD.${id} IS DISTINCT FROM NEW.${id}) THEN
           INSERT INTO ${quote(n.table)} (legacy_id) VALUES (NEW.${id}::text);
         END IF;
         RETURN NULL;
       END $$`,
      `DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.table)}`,
      `CREATE TRIGGER ${n.trigger} AFTER INSERT OR UPDATE OR DELETE ON ${quote(m.table)} FOR EACH ROW EXECUTE FUNCTION ${quote(n.fn)}()`,
    ]
    if (m.attachments) {
      const col = `"${m.attachments.message_column}"`
      statements.push(
        `CREATE OR REPLACE FUNCTION ${quote(n.attachmentFn)}() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF TG_OP <> 'INSERT' THEN INSERT INTO ${quote(n.table)} (legacy_id) VALUES (OLD.${col}::text); END IF;
           IF TG_OP <> 'DELETE' THEN INSERT INTO ${quote(n.table)} (legacy_id) VALUES (NEW.${col}::text); END IF;
           RETURN NULL;
         END $$`,
        `DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.attachments.table)}`,
        `CREATE TRIGGER ${n.trigger} AFTER INSERT OR UPDATE OR DELETE ON ${quote(m.attachments.table)} FOR EACH ROW EXECUTE FUNCTION ${quote(n.attachmentFn)}()`,
      )
    }
    await this.db.transaction(async (tx) => {
      for (const s of statements) await tx.query(s)
    })
  }

  /** Drops the triggers, their functions and the capture table: the legacy table is as it was. */
  async uninstall(): Promise<void> {
    const m = this.mapping
    const n = this.names
    await this.db.transaction(async (tx) => {
      await tx.query(`DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.table)}`)
      if (m.attachments) await tx.query(`DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.attachments.table)}`)
      await tx.query(`DROP FUNCTION IF EXISTS ${quote(n.fn)}()`)
      await tx.query(`DROP FUNCTION IF EXISTS ${quote(n.attachmentFn)}()`)
      await tx.query(`DROP TABLE IF EXISTS ${quote(n.table)}`)
    })
  }

  /** The oldest `limit` pending changes, in capture order. */
  pending(limit: number): Promise<PendingChange[]> {
    return this.db.query<PendingChange>(`SELECT seq::text AS seq, legacy_id FROM ${quote(this.names.table)} ORDER BY seq LIMIT $1`, [limit])
  }

  /**
   * Removes exactly the changes applied. Not "up to a seq": a change with a lower seq whose
   * transaction committed after the read would be lost.
   */
  async done(seqs: readonly string[]): Promise<void> {
    if (seqs.length === 0) return
    await this.db.query(`DELETE FROM ${quote(this.names.table)} WHERE seq = ANY($1::bigint[])`, [seqs])
  }

  async lag(): Promise<CaptureLag> {
    if (!(await this.installed())) return { installed: false, pending: 0, oldest_seconds: 0 }
    const [r] = await this.db.query<{ pending: string; oldest: number | null }>(
      `SELECT count(DISTINCT legacy_id) AS pending, extract(epoch FROM clock_timestamp() - min(at))::float8 AS oldest FROM ${quote(this.names.table)}`,
    )
    return { installed: true, pending: Number(r!.pending), oldest_seconds: r!.oldest ?? 0 }
  }
}

export interface Archived {
  table: string
  attachments: string | null
}

/**
 * The cutover on the legacy side, in one transaction: writers are locked out (reads go on), the
 * capture must be empty and no row past the checkpoint (else nothing changes and the caller is
 * told why), the triggers, functions and capture table go, and the table (and its attachments
 * table) is renamed with `suffix`. A writer waiting on the lock fails on the renamed table
 * afterwards instead of writing rows nobody migrates.
 */
export async function archiveLegacyTable(db: Db, m: Mapping, o: { suffix: string; checkpoint: string | null }): Promise<Archived> {
  const n = captureNames(m)
  const rename = (table: string) => `${split(table).name}${o.suffix}`
  return db.transaction(async (tx) => {
    await tx.query(`SET LOCAL lock_timeout = '10s'`)
    await tx.query(`LOCK TABLE ${[m.table, ...(m.attachments ? [m.attachments.table] : [])].map(quote).join(', ')} IN EXCLUSIVE MODE`)
    const [c] = await tx.query<{ ok: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS ok`, [quote(n.table)])
    if (c!.ok) {
      const [p] = await tx.query<{ n: string }>(`SELECT count(*) AS n FROM ${quote(n.table)}`)
      if (Number(p!.n) > 0) throw new FinalizeRefused(`${p!.n} legacy changes arrived while finalizing; run legacy follow, then finalize again`)
    }
    const idType = (await tx.query<{ t: string }>(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2`, [quote(m.table), m.id.column]))[0]!.t
    const [past] = await tx.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${quote(m.table)} WHERE $1::text IS NULL OR "${m.id.column}" > $1::${idType}`,
      [o.checkpoint],
    )
    if (Number(past!.n) > 0) throw new FinalizeRefused(`${past!.n} legacy rows are past the checkpoint; run legacy follow, then finalize again`)
    await tx.query(`DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.table)}`)
    if (m.attachments) await tx.query(`DROP TRIGGER IF EXISTS ${n.trigger} ON ${quote(m.attachments.table)}`)
    await tx.query(`DROP FUNCTION IF EXISTS ${quote(n.fn)}()`)
    await tx.query(`DROP FUNCTION IF EXISTS ${quote(n.attachmentFn)}()`)
    await tx.query(`DROP TABLE IF EXISTS ${quote(n.table)}`)
    await tx.query(`ALTER TABLE ${quote(m.table)} RENAME TO "${rename(m.table)}"`)
    if (m.attachments) await tx.query(`ALTER TABLE ${quote(m.attachments.table)} RENAME TO "${rename(m.attachments.table)}"`)
    const schema = (t: string) => (split(t).schema ? `${split(t).schema}.` : '')
    return {
      table: `${schema(m.table)}${rename(m.table)}`,
      attachments: m.attachments ? `${schema(m.attachments.table)}${rename(m.attachments.table)}` : null,
    }
  })
}

/** Finalize found a reason not to archive; nothing was changed. */
export class FinalizeRefused extends Error {}
