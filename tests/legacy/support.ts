/**
 * The legacy side of the migration tests: a real PostgreSQL database per test file on the shared
 * server (created here, dropped afterwards), in one of two shapes, and the tenant world on our
 * side that its rows name. Shape A is the benchmark's legacy schema (bench/legacy/schema.ts,
 * copied: tests never import the benchmarks); shape B is a single-tenant archive with bigint ids,
 * renamed columns, its own vocabularies and raw header text.
 */
import { afterAll, beforeAll } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { postgresDb } from '../../src/db/postgres.ts'
import type { Db } from '../../src/db/types.ts'
import type { Deps } from '../../src/deps.ts'
import { parseMapping, type Mapping } from '../../src/legacy/mapping.ts'
import { createCampaign, addStep } from '../../src/services/campaigns.ts'
import { createEmailAccount } from '../../src/services/email-accounts.ts'
import { createLead } from '../../src/services/leads.ts'
import { createTenant } from '../../src/services/tenants.ts'
import { spawnChild, type Child } from '../support/child.ts'
import { useSystem, type TestSystem } from '../support/system.ts'

const SERVER = process.env.LEGACY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

export interface Source {
  url: string
  db: Db
  drop(): Promise<void>
}

/** A fresh database on the shared server; drop() closes and removes it. */
export async function createSource(): Promise<Source> {
  const name = `edp_legacy_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgresDb(SERVER, { max: 1 })
  await admin.exec(`CREATE DATABASE "${name}"`)
  const u = new URL(SERVER)
  u.pathname = `/${name}`
  const url = u.toString()
  const db = postgresDb(url, { max: 2 })
  return {
    url,
    db,
    async drop() {
      await db.close()
      await admin.exec(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      await admin.close()
    },
  }
}

export const SHAPE_A_DDL = `
  CREATE SCHEMA legacy;
  CREATE TABLE legacy.emails (
    id uuid PRIMARY KEY, tenant_id uuid NOT NULL, email_account_id uuid NOT NULL, campaign_id uuid,
    sequence_step_id uuid, lead_id uuid, parent_message_id uuid REFERENCES legacy.emails (id),
    direction varchar(20) NOT NULL, message_type varchar(20) NOT NULL, from_email varchar(254) NOT NULL,
    to_email varchar(254) NOT NULL, subject varchar(500) NOT NULL, status varchar(50) NOT NULL, message_id varchar(998),
    content_text text, content_html text, headers jsonb,
    created timestamptz NOT NULL DEFAULT now(), updated timestamptz NOT NULL DEFAULT now());
  CREATE TABLE legacy.email_attachments (
    id uuid PRIMARY KEY, email_id uuid NOT NULL REFERENCES legacy.emails (id) ON DELETE CASCADE,
    filename varchar(255) NOT NULL, mime_type varchar(100) NOT NULL, size_bytes integer NOT NULL,
    content bytea NOT NULL, created timestamptz NOT NULL DEFAULT now());`

export const SHAPE_A_MAPPING = {
  table: 'legacy.emails',
  attachments: { table: 'legacy.email_attachments', message_column: 'email_id' },
}

export const SHAPE_B_DDL = `
  CREATE TABLE mail_archive (
    msg_no bigint PRIMARY KEY, mailbox text NOT NULL, dir char(3) NOT NULL, kind text, sender text NOT NULL,
    recipient text NOT NULL, title text, state text, msgid text, sent_at timestamptz NOT NULL,
    body_plain text, body_html text, raw_headers text, reply_to bigint, notes text, files jsonb);`

export const SHAPE_B_MAPPING = {
  table: 'mail_archive',
  id: { column: 'msg_no', type: 'bigint' },
  tenant_column: null,
  columns: {
    email_account_id: null,
    email_account_address: 'mailbox',
    campaign_id: null,
    sequence_step_id: null,
    lead_id: null,
    parent_id: 'reply_to',
    direction: 'dir',
    message_type: 'kind',
    from_email: 'sender',
    to_email: 'recipient',
    subject: 'title',
    status: 'state',
    rfc822_message_id: 'msgid',
    created: 'sent_at',
    content_text: 'body_plain',
    content_html: 'body_html',
    headers: 'raw_headers',
  },
  headers_format: 'raw',
  inline_attachments: { column: 'files', filename: 'name', mime_type: 'type', content: 'data', disposition: 'disposition' },
  values: {
    direction: { out: 'outbound', in: 'inbound' },
    message_type: { normal: 'email', ndr: 'bounce', ooo: 'auto_reply' },
    status: { S: 'sent', R: 'received' },
  },
}

export interface World {
  tenant: string
  account: string
  address: string
  campaign: string
  step: string
  lead: string
}

/** A tenant with a mailbox, a campaign with a step, and a lead: what legacy rows of shape A name. */
export async function createWorld(deps: Deps, name = 'legacy'): Promise<World> {
  const { tenant } = await createTenant(deps, name)
  const address = `sales@${name}.test`
  const account = await createEmailAccount(deps, tenant.id, { email_address: address })
  const campaign = await createCampaign(deps, tenant.id, 'imported')
  const step = await addStep(deps, tenant.id, campaign.id, { step_number: 1, delay_days: 0 })
  const lead = await createLead(deps, tenant.id, { email: 'jane@example.com' })
  return { tenant: tenant.id, account: account.id, address, campaign: campaign.id, step: step.id, lead: lead!.id }
}

/** A UUIDv7 for a moment, so legacy ids sort like their dates (as the benchmark's do). */
function uuidAt(ms: number, n: number): string {
  const hex = ms.toString(16).padStart(12, '0') + '7' + n.toString(16).padStart(3, '0').slice(-3) + '8' + n.toString(16).padStart(15, '0').slice(-15)
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`
}

const DAY = 86_400_000

/**
 * `n` rows of shape A for the world's tenant: outbound mail with html, text, JSON headers and
 * (every fifth) an attachment; every fourth row an inbound reply to the row before it. Row k is
 * dated `k` hours after `start`.
 */
export async function seedShapeA(src: Source, w: World, n: number, start = Date.now() - 30 * DAY): Promise<string[]> {
  const ids: string[] = []
  for (let k = 0; k < n; k++) {
    const at = start + k * 3_600_000
    const id = uuidAt(at, k)
    const reply = k % 4 === 3
    ids.push(id)
    await src.db.query(
      `INSERT INTO legacy.emails (id, tenant_id, email_account_id, campaign_id, sequence_step_id, lead_id, parent_message_id,
         direction, message_type, from_email, to_email, subject, status, message_id, content_text, content_html, headers, created, updated)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17::jsonb, $18, $18)`,
      [
        id,
        w.tenant,
        w.account,
        reply ? null : w.campaign,
        reply ? null : w.step,
        w.lead,
        reply ? ids[k - 1] : null,
        reply ? 'inbound' : 'outbound',
        'email',
        reply ? 'jane@example.com' : w.address,
        reply ? w.address : 'jane@example.com',
        `${reply ? 'Re: ' : ''}hello ${k}`,
        reply ? 'received' : 'sent',
        `<${id}@legacy.test>`,
        `Hi Jane, message ${k}. ${'Lorem ipsum dolor sit amet. '.repeat(20 + (k % 7))}`,
        `<p>Hi Jane, message ${k}.</p>${'<p>Lorem ipsum dolor sit amet.</p>'.repeat(40 + (k % 5))}`,
        JSON.stringify([
          { name: 'Message-ID', value: `<${id}@legacy.test>` },
          { name: 'X-Legacy', value: String(k) },
        ]),
        new Date(at),
      ],
    )
    if (k % 5 === 0) {
      await src.db.query(
        `INSERT INTO legacy.email_attachments (id, email_id, filename, mime_type, size_bytes, content) VALUES ($1, $2, $3, $4, $5, $6)`,
        [uuidAt(at, 4000 + k), id, `scan-${k}.pdf`, 'application/pdf', 6, new TextEncoder().encode(`file ${k % 3}`)],
      )
    }
  }
  return ids
}

/** `n` rows of shape B for one mailbox address, numbered from 1; every third row answers the row before. */
/** The files an archive row keeps in its JSON column (shape B's inline attachments). */
export function archiveFiles(k: number) {
  const files: { name: string; type: string; data: string; disposition?: string }[] = [{ name: `quote-${k}.pdf`, type: 'application/pdf', data: Buffer.from(`%PDF-1.4 quote ${k} `.repeat(20)).toString('base64') }]
  if (k % 4 === 0) files.push({ name: 'logo.png', type: 'image/png', data: Buffer.from([0x89, 0x50, 0x4e, 0x47, k]).toString('base64'), disposition: 'inline' })
  return files
}

export async function seedShapeB(src: Source, address: string, n: number, start = Date.now() - 30 * DAY): Promise<void> {
  for (let k = 1; k <= n; k++) {
    const reply = k % 3 === 0
    await src.db.query(
      `INSERT INTO mail_archive (msg_no, mailbox, dir, kind, sender, recipient, title, state, msgid, sent_at, body_plain, body_html, raw_headers, reply_to, notes, files)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'x', $15::jsonb)`,
      [
        1000 + k,
        address,
        reply ? 'in' : 'out',
        reply ? 'ooo' : 'normal',
        reply ? 'bob@example.com' : address,
        reply ? address : 'bob@example.com',
        `archived ${k}`,
        reply ? 'R' : 'S',
        `<b${k}@archive.test>`,
        new Date(start + k * 3_600_000),
        `plain ${k} ${'text '.repeat(300)}`,
        k % 2 ? null : `<b>${k}</b>`,
        `Message-ID: <b${k}@archive.test>\r\nSubject: archived ${k}\r\nReceived: from a\r\n  by b\r\n`,
        reply ? 1000 + k - 1 : null,
        // Every other row keeps its files inline: a PDF, and on some a logo shown in the body.
        k % 2 === 0 ? JSON.stringify(archiveFiles(k)) : null,
      ],
    )
  }
}

/** A mapping as a file, where the CLI reads it. */
export async function mappingFile(mapping: unknown): Promise<{ path: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'edp-mapping-'))
  const path = join(dir, 'mapping.json')
  await writeFile(path, typeof mapping === 'string' ? mapping : JSON.stringify(mapping))
  return { path, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** Runs `bin/legacy.ts` to completion: its exit code and output. */
export async function legacyCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const child: Child = spawnChild('bin/legacy.ts', { LOG_LEVEL: 'warn', ...env }, args)
  const code = await child.proc.exited
  // Let the line reader drain what the process wrote before it exited.
  await Bun.sleep(20)
  return { code, stdout: child.lines.join('\n'), stderr: await child.stderr() }
}

export interface ShapeA {
  sys: TestSystem
  src: Source
  world: World
  /** The seeded legacy ids, in key order. */
  ids: string[]
  mapping: Mapping
}

/**
 * The setup most legacy tests share: a legacy source of the benchmark's shape with `n` seeded rows,
 * beside a test system holding the tenant and mailboxes they name. The source's hooks are registered
 * before useSystem's, so it is dropped before the system's leak check runs. `src`, `world` and `ids`
 * are set by the time the file's own beforeAll and tests run.
 */
export function useShapeA(n: number): ShapeA {
  const f = { mapping: parseMapping(SHAPE_A_MAPPING) } as ShapeA
  beforeAll(async () => {
    f.src = await createSource()
    await f.src.db.exec(SHAPE_A_DDL)
  })
  afterAll(() => f.src.drop())
  f.sys = useSystem()
  beforeAll(async () => {
    f.world = await createWorld(f.sys.deps)
    f.ids = await seedShapeA(f.src, f.world, n)
  })
  return f
}
