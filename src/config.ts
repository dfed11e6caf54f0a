import { availableParallelism } from 'node:os'
import { z } from 'zod'

const databaseUrl = z
  .string()
  .trim()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL (leave unset for embedded PGlite)')
  .optional()

/** A retention in days (fractions allowed), with its default. */
const retentionDays = (days: number) => z.coerce.number().positive().max(36_500).default(days)

/** 32 bytes, base64 (standard or url-safe alphabet). */
const masterKey = z
  .string()
  .trim()
  .refine((s) => /^[A-Za-z0-9+/_-]{43}=?$/.test(s) && Buffer.from(s, 'base64').length === 32, 'must be 32 bytes, base64 (openssl rand -base64 32)')
  .optional()

const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])

/** Every setting the process reads, parsed once at start. Unset tier URLs mean embedded PGlite. */
export const configSchema = z.object({
  OLTP_DATABASE_URL: databaseUrl,
  CONTENT_DATABASE_URL: databaseUrl,
  ANALYTICS_DATABASE_URL: databaseUrl,
  QUEUE_DATABASE_URL: databaseUrl,
  /**
   * Streaming replicas of the OLTP, content and analytics databases (server mode, optional):
   * listings and reports read there while the replica is at most READ_REPLICA_MAX_LAG_S behind its
   * primary (src/db/replicas.ts); fetches by id and every write use the primary.
   */
  OLTP_READ_URL: databaseUrl,
  CONTENT_READ_URL: databaseUrl,
  ANALYTICS_READ_URL: databaseUrl,
  READ_REPLICA_MAX_LAG_S: z.coerce.number().min(0.1).max(3600).default(2),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * API processes serving PORT together (server mode; SO_REUSEPORT, src/api-processes.ts). Unset:
   * one per CPU core in server mode, one in embedded mode, where PGlite allows no more.
   */
  API_PROCESSES: z.coerce.number().int().min(1).max(64).optional(),
  HOST: z.string().min(1).default('127.0.0.1'),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /**
   * The legacy database a migration reads (npm run legacy, and workers running legacy.batch jobs
   * of `legacy migrate --via-queue`): kept in the environment, never in a queue message.
   */
  LEGACY_SOURCE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL').optional(),
  /**
   * More operator tokens, comma-separated, all valid at once: add the new one, move clients,
   * then drop the old one, with no restart in between that refuses anybody.
   */
  ADMIN_TOKENS: z
    .string()
    .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
    .pipe(z.array(z.string().min(16, 'every token must be at least 16 characters')))
    .default([]),
  /**
   * The master key that wraps every tenant's content data key: 32 random bytes, base64
   * (`openssl rand -base64 32`). Required in server mode; embedded mode generates one and keeps it
   * in DATA_DIR/content-master-key. Without it no content can be read: back it up apart from the data.
   */
  CONTENT_MASTER_KEY: masterKey,
  /** During a master-key rotation, the key being replaced: data keys still wrapped by it keep opening. */
  CONTENT_MASTER_KEY_PREVIOUS: masterKey,
  /** Requests per second per API key, refilled continuously (a tenant may have its own). */
  RATE_LIMIT_PER_S: z.coerce.number().int().min(1).max(100_000).default(100),
  /** Requests a key may make at once after being idle. */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(200),
  /** Request bodies larger than this count as large: only a few are read at once (memory). */
  LARGE_BODY_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  /**
   * Large request bodies read at once per process; more answer 503 with Retry-After. Unset: 2 in
   * embedded mode (PGlite writes one statement at a time, so more only hold memory) and 4 on servers.
   */
  MAX_CONCURRENT_LARGE_BODIES: z.coerce.number().int().min(1).max(256).optional(),
  /**
   * A POST sent again with the Idempotency-Key of one still running waits this long for the first
   * one's answer (and replays it) before answering 409 with Retry-After. 0: answer 409 at once.
   */
  IDEMPOTENCY_WAIT_S: z.coerce.number().min(0).max(60).default(10),
  LOG_LEVEL: logLevel.default('info'),
  /** Largest accepted request body; base64 attachments ride inside JSON, so this bounds them too. */
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(25 * 1024 * 1024),
  /** Largest raw message POST /v1/inbound accepts (413 beyond). */
  INBOUND_MAX_BYTES: z.coerce.number().int().positive().default(10 * 1024 * 1024),
  /**
   * Content with no ref is collected once it is this old. The write path refuses to commit a ref
   * whose content is more than half this old, so a late ref can never lose its content.
   */
  CONTENT_ORPHAN_GRACE_S: z.coerce.number().int().min(1).default(3600),
  /** Bodies at or above this many UTF-8 bytes are stored compressed. */
  COMPRESS_MIN_BYTES: z.coerce.number().int().min(0).default(1024),
  /** Run the workers inside the API process (embedded mode does by default). */
  WORKERS_IN_PROCESS: z
    .enum(['true', 'false', 'auto'])
    .default('auto'),
  /**
   * Apply pending migrations when a process starts. false makes migrating a step of its own
   * (`npm run migrate`, the Procfile's release): the API then starts and answers /ready 503 until
   * the schema is current, and a process that runs workers refuses to start on an older schema.
   */
  MIGRATE_ON_START: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  DB_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Readers per queue: the runtime scales between these with depth and oldest-message age. */
  WORKER_MIN_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  WORKER_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(1000).default(50),
  /** Seconds a message stays hidden once read; extended while its handler runs. */
  WORKER_VISIBILITY_TIMEOUT_S: z.coerce.number().int().min(1).max(3600).default(30),
  /** How long shutdown waits for in-flight jobs before releasing them back to the queue. */
  WORKER_SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).default(10_000),
  /** Seconds between runs of the periodic maintenance jobs (orphans, expiry, archive), across all worker processes. */
  MAINTENANCE_INTERVAL_S: z.coerce.number().int().min(1).max(86_400).default(600),
  /** Seconds between the first event that makes the analytics views stale and their refresh. */
  ANALYTICS_REFRESH_DEBOUNCE_S: z.coerce.number().int().min(0).max(300).default(1),
  /** Seconds between reads of the queue and analytics figures /metrics shows: scrapes render the last read, never query. */
  METRICS_REFRESH_S: z.coerce.number().int().min(1).max(3600).default(5),
  /** Database sizes, the largest tables and content bytes: full-table figures, read for /metrics at most this often. */
  METRICS_SLOW_REFRESH_S: z.coerce.number().min(1).max(86_400).default(60),
  /**
   * Workers count as gone when none recorded a heartbeat (every 5 s) for this long while a work
   * queue's oldest message is older than this; /ready says so.
   */
  WORKER_HEARTBEAT_TIMEOUT_S: z.coerce.number().int().min(10).max(86_400).default(60),
  /**
   * POST /v1/events rejects an event that occurred longer ago than this (a year of history plus
   * slack for late provider reports). It bounds the days one campaign can spread its rollups over.
   */
  EVENT_MAX_AGE_DAYS: z.coerce.number().int().min(1).max(3650).default(400),
  /*
   * Bounded growth (src/services/prune.ts, the maintenance.prune job): how long what grows with
   * traffic is kept. Days; fractions are allowed (the churn benchmark runs a window of seconds).
   */
  /** queue.job_logs rows (one per attempt) are deleted once this old. */
  JOB_LOG_RETENTION_DAYS: retentionDays(14),
  /** Rows of pgmq's archive tables (pgmq.a_<queue>: every job done) are deleted once archived this long. */
  QUEUE_ARCHIVE_RETENTION_DAYS: retentionDays(7),
  /**
   * analytics.events are kept EVENT_MAX_AGE_DAYS plus this margin after they occurred; workers
   * refuse to apply an event older than that, so a pruned event can never be counted again. The
   * margin is how long an accepted event may wait in a queue (or dead letters) and still count.
   */
  EVENT_RETENTION_MARGIN_DAYS: retentionDays(30),
  /** Expired content rows (tombstones: metadata, no bytes) are deleted this long after they expired. */
  CONTENT_TOMBSTONE_RETENTION_DAYS: retentionDays(365),
  /** oltp.audit_log rows are deleted once this old. */
  AUDIT_LOG_RETENTION_DAYS: retentionDays(400),
  /*
   * Scheduled backups (src/services/backup.ts): with BACKUP_DIR set, the workers take a backup set
   * into it every BACKUP_INTERVAL_MIN (once per interval across all processes) and keep the newest
   * BACKUP_KEEP complete sets.
   */
  BACKUP_DIR: z.string().min(1).optional(),
  BACKUP_INTERVAL_MIN: z.coerce.number().min(0.05).max(7 * 24 * 60).default(15),
  BACKUP_KEEP: z.coerce.number().int().min(1).max(10_000).default(96),
  /** Provider event ids already applied (oltp.webhook_receipts) are forgotten this long after: longer than any provider retries. */
  WEBHOOK_RECEIPT_RETENTION_DAYS: retentionDays(30),
  /*
   * Suppression (src/services/suppressions.ts). A hard bounce or a complaint suppresses at once;
   * soft bounces that mean the mailbox may be gone (full, disabled, unreachable, expired) suppress
   * after this many in a row, the first no more than the window ago. 0 turns that off.
   */
  SOFT_BOUNCE_SUPPRESS_AFTER: z.coerce.number().int().min(0).max(100).default(3),
  SOFT_BOUNCE_WINDOW_DAYS: z.coerce.number().min(1).max(365).default(30),
  /** OLTP outbox rows older than this are reported by the prune (never deleted: they were not relayed). */
  OUTBOX_STALE_AFTER_S: z.coerce.number().int().min(60).max(30 * 86_400).default(3600),
}).refine((c) => c.WORKER_MIN_CONCURRENCY <= c.WORKER_MAX_CONCURRENCY, {
  path: ['WORKER_MIN_CONCURRENCY'],
  message: 'must not exceed WORKER_MAX_CONCURRENCY',
}).superRefine((c, ctx) => {
  for (const tier of ['OLTP', 'CONTENT', 'ANALYTICS'] as const) {
    if (c[`${tier}_READ_URL`] && !c[`${tier}_DATABASE_URL`]) {
      ctx.addIssue({ code: 'custom', path: [`${tier}_READ_URL`], message: `a replica needs its primary: set ${tier}_DATABASE_URL too (embedded PGlite has no replicas)` })
    }
  }
})

export type Config = z.infer<typeof configSchema>

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Parses the environment; a bad value throws one message naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''))
  const parsed = configSchema.safeParse(present)
  if (parsed.success) return parsed.data
  const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`)
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`)
}

export const isEmbedded = (c: Config) =>
  !c.OLTP_DATABASE_URL || !c.CONTENT_DATABASE_URL || !c.ANALYTICS_DATABASE_URL || !c.QUEUE_DATABASE_URL

/** How many API processes `npm start` runs; more than one in embedded mode is refused (PGlite is one process's). */
export function apiProcesses(c: Config): number {
  if (isEmbedded(c)) {
    if ((c.API_PROCESSES ?? 1) > 1) {
      throw new ConfigError(`invalid configuration:\n  API_PROCESSES: embedded mode (PGlite) runs one API process; set the four *_DATABASE_URL for more`)
    }
    return 1
  }
  return c.API_PROCESSES ?? availableParallelism()
}

/** Whether the API process runs the workers too: by default in embedded mode only. */
export const workersInProcess = (c: Config) => (c.WORKERS_IN_PROCESS === 'auto' ? isEmbedded(c) : c.WORKERS_IN_PROCESS === 'true')
