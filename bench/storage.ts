/**
 * Bytes per message: the OLTP refs table (heap + indexes + TOAST) against the legacy single
 * `emails` table that holds metadata and content together with the indexes a legacy application
 * would have, on the same generated messages. The content tier is reported beside them.
 */
import { packBody } from '../src/content/codec.ts'
import { newId } from '../src/ids.ts'
import type { Db } from '../src/db/types.ts'
import { benchDatabase } from './lib/pg.ts'
import { corpus, prng } from './lib/corpus.ts'
import { round } from './lib/stats.ts'
import type { Row, Section } from './lib/report.ts'

const LEGACY_DDL = `
  CREATE SCHEMA legacy;
  CREATE TABLE legacy.emails (
    id uuid PRIMARY KEY, tenant_id uuid NOT NULL, email_account_id uuid NOT NULL, campaign_id uuid, lead_id uuid,
    parent_message_id uuid, direction varchar(20) NOT NULL, message_type varchar(20) NOT NULL, from_email varchar(254) NOT NULL,
    to_email varchar(254) NOT NULL, subject varchar(500) NOT NULL, status varchar(50) NOT NULL, message_id varchar(998),
    content_text text, content_html text, headers jsonb, created timestamptz NOT NULL DEFAULT now(), updated timestamptz NOT NULL DEFAULT now());
  CREATE INDEX emails_account ON legacy.emails (tenant_id, email_account_id, created DESC);
  CREATE INDEX emails_campaign ON legacy.emails (tenant_id, campaign_id) WHERE campaign_id IS NOT NULL;
  CREATE INDEX emails_lead ON legacy.emails (tenant_id, lead_id) WHERE lead_id IS NOT NULL;
  CREATE INDEX emails_parent ON legacy.emails (tenant_id, parent_message_id) WHERE parent_message_id IS NOT NULL;
  CREATE INDEX emails_message_id ON legacy.emails (tenant_id, message_id);`

interface Sizes {
  heap: number
  indexes: number
  toast: number
  total: number
}

async function sizes(db: Db, table: string): Promise<Sizes> {
  const [r] = await db.query<Record<string, string>>(
    `SELECT pg_relation_size($1::regclass) AS heap, pg_indexes_size($1::regclass) AS indexes,
            coalesce(pg_total_relation_size(reltoastrelid), 0) AS toast, pg_total_relation_size($1::regclass) AS total
       FROM pg_class WHERE oid = $1::regclass`,
    [table],
  )
  return { heap: Number(r!.heap), indexes: Number(r!.indexes), toast: Number(r!.toast), total: Number(r!.total) }
}

export async function benchStorage({ quick = false } = {}): Promise<Section> {
  const n = quick ? 2_000 : 50_000
  const bench = await benchDatabase('edp_bench_storage', 4)
  const { db } = bench
  try {
    await db.exec(LEGACY_DDL)
    const tenant = newId()
    const accounts = Array.from({ length: 20 }, () => newId())
    const campaigns = Array.from({ length: 10 }, () => newId())
    await db.query(`INSERT INTO oltp.tenants (id, name) VALUES ($1, 'bench')`, [tenant])
    for (const [i, a] of accounts.entries()) {
      await db.query(`INSERT INTO oltp.email_accounts (tenant_id, id, email_address) VALUES ($1, $2, $3)`, [tenant, a, `box${i}@bench.test`])
    }
    for (const c of campaigns) await db.query(`INSERT INTO oltp.campaigns (tenant_id, id, name) VALUES ($1, $2, 'c')`, [tenant, c])
    const bodies = corpus(300, 5)
    const rand = prng(9)
    const headerBlock = (i: number) =>
      Array.from({ length: 12 + Math.floor(rand() * 20) }, (_, k) => ({
        name: k % 3 ? 'Received' : `X-Header-${k}`,
        value: `from mx${k}.example.net (mx${k}.example.net [192.0.2.${k}]) by relay.bench.test with ESMTPS id ${(i * 31 + k).toString(36)}; Thu, 26 Nov 2026 10:00:${String(k % 60).padStart(2, '0')} +0000`,
      }))
    for (let start = 0; start < n; start += 500) {
      const batch = Array.from({ length: Math.min(500, n - start) }, (_, k) => {
        const i = start + k
        const body = bodies[i % bodies.length]!
        return {
          id: newId(),
          account: accounts[Math.floor(accounts.length * rand() ** 2)]!, // some mailboxes much larger
          campaign: rand() < 0.8 ? campaigns[Math.floor(campaigns.length * rand() ** 2)]! : null,
          subject: `Re: ${body.text.slice(4, 60)}`,
          to: `lead${i}@example.com`,
          messageId: `<${i}.${start}@bench.test>`,
          body,
          headers: headerBlock(i),
        }
      })
      await db.query(
        `INSERT INTO legacy.emails (id, tenant_id, email_account_id, campaign_id, direction, message_type, from_email, to_email, subject,
           status, message_id, content_text, content_html, headers)
         SELECT x.id, $1, x.account, x.campaign, 'outbound', 'email', 'sales@bench.test', x.to_email, x.subject, 'sent', x.message_id,
                x.text, x.html, x.headers
           FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, account uuid, campaign uuid, to_email text, subject text, message_id text,
                text text, html text, headers jsonb)`,
        [tenant, JSON.stringify(batch.map((m) => ({ id: m.id, account: m.account, campaign: m.campaign, to_email: m.to, subject: m.subject, message_id: m.messageId, text: m.body.text, html: m.body.html, headers: m.headers })))],
      )
      await db.query(
        `INSERT INTO oltp.inbox_message_refs (id, tenant_id, email_account_id, campaign_id, direction, message_type, from_email, to_email,
           subject, status, content_storage_key, rfc822_message_id)
         SELECT x.id, $1, x.account, x.campaign, 'outbound', 'email', 'sales@bench.test', x.to_email, x.subject, 'sent',
                $3::text || x.id, x.message_id
           FROM jsonb_to_recordset($2::jsonb) AS x(id uuid, account uuid, campaign uuid, to_email text, subject text, message_id text)`,
        [tenant, JSON.stringify(batch.map((m) => ({ id: m.id, account: m.account, campaign: m.campaign, to_email: m.to, subject: m.subject, message_id: m.messageId }))), `${tenant}/msg/`],
      )
      await db.transaction(async (tx) => {
        for (const m of batch) {
          const packed = packBody(m.body.text, m.body.html, 1024)
          await tx.query(
            `INSERT INTO content.content_objects (storage_key, tenant_id, kind, content_text_packed, content_html_packed, headers,
               raw_size_bytes, stored_size_bytes, compression_type)
             VALUES ($1, $2, 'outbound', $3, $4, $5::jsonb, $6, $7, $8)`,
            [`${tenant}/msg/${m.id}`, tenant, packed.text_packed, packed.html_packed, JSON.stringify(m.headers), packed.raw_size_bytes, packed.stored_size_bytes, packed.compression_type],
          )
        }
      })
    }
    for (const t of ['legacy.emails', 'oltp.inbox_message_refs', 'content.content_objects']) await db.exec(`VACUUM ANALYZE ${t}`)
    const legacy = await sizes(db, 'legacy.emails')
    const refs = await sizes(db, 'oltp.inbox_message_refs')
    const content = await sizes(db, 'content.content_objects')
    const per = (b: number) => round(b / n, 0)
    const rows: Row[] = [
      {
        benchmark: 'bytes per message',
        case: `${n.toLocaleString('en')} messages (~21 KB bodies, 1-3 KB headers): OLTP table + indexes + TOAST`,
        ours: `refs ${per(refs.total)} B (${per(refs.indexes)} B of indexes)`,
        baseline: `legacy emails ${per(legacy.total)} B (${per(legacy.indexes)} B of indexes, ${per(legacy.toast)} B TOAST)`,
        ratio: legacy.total / refs.total,
        note: `OLTP ${round((1 - refs.total / legacy.total) * 100, 1)}% smaller (target ≥ 85%)`,
      },
      {
        benchmark: 'bytes per message',
        case: 'everything: refs + content tier vs the legacy table',
        ours: `${per(refs.total + content.total)} B (content ${per(content.total)} B)`,
        baseline: `${per(legacy.total)} B`,
        ratio: legacy.total / (refs.total + content.total),
      },
    ]
    return { name: 'storage', rows, data: { messages: n, legacy, refs, content } }
  } finally {
    await bench.dispose()
  }
}
