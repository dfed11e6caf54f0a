/**
 * Deploys must not stop writes. A migration statement that locks one of a tier's large tables for
 * as long as the table is big (an index built without CONCURRENTLY, a column type change, a
 * constraint validated in place, a whole-table UPDATE) is refused by the runner, naming the
 * statement and the way to write it instead. Tables the same migration creates are empty, so
 * anything goes on them. Migrations written before this check existed were applied while the
 * tables were small and are not re-judged (changing them would change their hash).
 *
 * A migration whose first line is `-- edp:no-transaction` runs statement by statement outside a
 * transaction, which CREATE INDEX CONCURRENTLY needs; its statements must be safe to run again
 * (IF NOT EXISTS), since a crash can leave it half done.
 */
import type { TierName } from './tier-names.ts'

/** Tables that grow with traffic, per tier: the ones a table-wide lock would stop writes on. */
export const LARGE_TABLES: Record<TierName, readonly string[]> = {
  oltp: ['oltp.inbox_message_refs', 'oltp.leads', 'oltp.audit_log', 'oltp.outbox', 'oltp.suppressions', 'oltp.idempotency_keys', 'oltp.webhook_receipts'],
  content: ['content.content_objects', 'content.attachments', 'content.attachment_blobs', 'content.transactional_emails', 'content.notifications'],
  analytics: [
    'analytics.events',
    'analytics.rollup_daily',
    'analytics.message_firsts',
    'analytics.campaign_analytics',
    'analytics.mailbox_analytics',
    'analytics.sequence_step_analytics',
  ],
  queue: ['queue.job_logs'],
}

/** The last migration of each tier written before this check: they are not re-judged. */
const CHECKED_AFTER: Record<TierName, string> = {
  oltp: '0010',
  content: '0005',
  analytics: '0006',
  queue: '0004',
}

export const NO_TRANSACTION = /^--\s*edp:no-transaction\b/

export const isChecked = (tier: TierName, tag: string) => tag.slice(0, 4) > CHECKED_AFTER[tier]

/** The statements of a migration file: drizzle-kit's breakpoints, else semicolons at line ends. */
export function statements(sql: string): string[] {
  const parts = sql.includes('--> statement-breakpoint') ? sql.split('--> statement-breakpoint') : sql.split(/;\s*\n/)
  return parts.map((s) => s.replace(/^\s*--.*$/gm, '').trim()).filter(Boolean)
}

const name = String.raw`"?(\w+)"?\."?(\w+)"?`

const RULES: { pattern: RegExp; why: string; /** Allowed once the migration has validated a constraint on the table (the CHECK SET NOT NULL trusts). */ afterValidate?: true }[] = [
  {
    pattern: new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?!CONCURRENTLY)(?:IF\s+NOT\s+EXISTS\s+)?"?\w+"?\s+ON\s+(?:ONLY\s+)?${name}`, 'i'),
    why: 'builds an index while blocking writes: use CREATE INDEX CONCURRENTLY IF NOT EXISTS in a -- edp:no-transaction migration',
  },
  {
    pattern: new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${name}\s+.*\bALTER\s+COLUMN\s+"?\w+"?\s+(?:SET\s+DATA\s+)?TYPE\b`, 'is'),
    why: 'changes a column type under an exclusive lock (often a rewrite): add a new column, backfill it in batches, switch over',
  },
  {
    pattern: new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${name}\s+.*\bADD\s+CONSTRAINT\b(?!.*\bNOT\s+VALID\b).*\b(FOREIGN\s+KEY|CHECK)\b`, 'is'),
    why: 'validates a constraint over every row under lock: add it NOT VALID, then VALIDATE CONSTRAINT in a later statement',
  },
  {
    pattern: new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${name}\s+.*\bALTER\s+COLUMN\s+"?\w+"?\s+SET\s+NOT\s+NULL\b`, 'is'),
    why: 'scans every row under an exclusive lock: add a CHECK (col IS NOT NULL) NOT VALID, validate it, then SET NOT NULL',
    afterValidate: true,
  },
  {
    pattern: new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${name}\s+.*\bADD\s+(?:COLUMN\s+)?"?\w+"?\s+[^,]*\bDEFAULT\s+\(?\s*(now|clock_timestamp|random|gen_random_uuid|uuid_generate_v4)\s*\(`, 'is'),
    why: 'a volatile default rewrites the table: add the column without it, then backfill in batches',
  },
  {
    pattern: new RegExp(String.raw`^(?:UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?${name}`, 'i'),
    why: 'rewrites rows of a large table in one transaction: backfill in batches from a job or script, not in a migration',
  },
  { pattern: new RegExp(String.raw`^(?:LOCK\s+TABLE|VACUUM\s+FULL|CLUSTER|REINDEX\s+TABLE\s+(?!CONCURRENTLY))\s*${name}`, 'i'), why: 'locks the whole table' },
]

/** What in a migration would lock one of the tier's large tables, one line per statement. */
export function lockHazards(tier: TierName, sql: string): string[] {
  const stmts = statements(sql)
  const created = new Set(
    stmts.flatMap((s) => {
      const m = new RegExp(String.raw`^CREATE\s+(?:UNLOGGED\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?${name}`, 'i').exec(s)
      return m ? [`${m[1]}.${m[2]}`] : []
    }),
  )
  const large = new Set(LARGE_TABLES[tier])
  const validated = new Set<string>()
  const validate = new RegExp(String.raw`^ALTER\s+TABLE\s+(?:ONLY\s+)?${name}\s+VALIDATE\s+CONSTRAINT\b`, 'i')
  const hazards: string[] = []
  for (const s of stmts) {
    const v = validate.exec(s)
    if (v) validated.add(`${v[1]}.${v[2]}`)
    for (const rule of RULES) {
      const m = rule.pattern.exec(s)
      if (!m) continue
      const table = `${m[1]}.${m[2]}`
      if (rule.afterValidate && validated.has(table)) continue
      if (large.has(table) && !created.has(table)) hazards.push(`${table}: ${s.split('\n')[0]!.slice(0, 120)} — ${rule.why}`)
    }
  }
  return hazards
}

/** The index a CREATE INDEX CONCURRENTLY statement builds (schema-qualified), to clear an invalid one a crash left. */
export function concurrentIndexName(statement: string): string | null {
  const m = new RegExp(String.raw`^CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?\s+ON\s+(?:ONLY\s+)?${name}`, 'i').exec(statement)
  return m ? `${m[2]}.${m[1]}` : null
}
