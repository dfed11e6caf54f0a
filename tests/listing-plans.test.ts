/**
 * Every listing reads an index in id order: no Sort over a tenant's rows. An index built in the
 * wrong order (DESC NULLS LAST cannot supply ORDER BY id DESC), or a generic `($n IS NULL OR ...)`
 * plan, made the 1M-message benchmark's inbox sort a whole mailbox: 30-300 ms per page.
 */
import { describe, expect, test } from 'bun:test'
import type { Queryable } from '../src/db/types.ts'
import { newId } from '../src/ids.ts'
import { listCampaigns } from '../src/tiers/oltp/campaigns.ts'
import { listEmailAccounts } from '../src/tiers/oltp/email-accounts.ts'
import { listLeads } from '../src/tiers/oltp/leads.ts'
import { listMessageRefs } from '../src/tiers/oltp/messages.ts'
import { listNotifications } from '../src/tiers/content/notifications.ts'
import { listTransactionalEmails } from '../src/tiers/content/transactional.ts'
import { useSystem } from './support/system.ts'

const sys = useSystem()

/** Runs a listing's own SQL under EXPLAIN; with sorts priced out unless a unique filter makes one trivial. */
async function plan(db: Queryable & { transaction: typeof sys.tiers.oltp.transaction }, run: (q: Queryable) => Promise<unknown>, allowSort: boolean) {
  let captured: { text: string; params: readonly unknown[] } | undefined
  await run({
    query: async (text, params = []) => {
      captured = { text, params }
      return []
    },
    exec: async () => {},
  } as Queryable)
  const explained = await db.transaction(async (tx) => {
    await tx.exec(`SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = ${allowSort ? 'on' : 'off'}`)
    const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured!.text}`, captured!.params)
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  })
  return { sql: captured!.text, plan: explained }
}

const tenant = newId()
const page = { limit: 50, before: newId() }

const LISTINGS: { name: string; tier: 'oltp' | 'content'; run: (q: Queryable) => Promise<unknown>; index: string; uniqueFilter?: boolean }[] = [
  { name: 'messages by mailbox', tier: 'oltp', run: (q) => listMessageRefs(q, tenant, { emailAccountId: newId(), ...page }), index: 'inbox_message_refs_account' },
  { name: 'messages by campaign', tier: 'oltp', run: (q) => listMessageRefs(q, tenant, { campaignId: newId(), ...page }), index: 'inbox_message_refs_campaign' },
  { name: 'messages by lead', tier: 'oltp', run: (q) => listMessageRefs(q, tenant, { leadId: newId(), ...page }), index: 'inbox_message_refs_lead' },
  { name: 'messages by direction', tier: 'oltp', run: (q) => listMessageRefs(q, tenant, { direction: 'inbound', ...page }), index: 'inbox_message_refs_tenant_id_id_pk' },
  { name: 'all messages', tier: 'oltp', run: (q) => listMessageRefs(q, tenant, page), index: 'inbox_message_refs_tenant_id_id_pk' },
  { name: 'campaigns', tier: 'oltp', run: (q) => listCampaigns(q, tenant, page), index: 'campaigns_tenant_id_id_pk' },
  { name: 'email accounts', tier: 'oltp', run: (q) => listEmailAccounts(q, tenant, page), index: 'email_accounts_tenant_id_id_pk' },
  { name: 'leads', tier: 'oltp', run: (q) => listLeads(q, tenant, page), index: 'leads_tenant_id_id_pk' },
  // At most one row matches (a unique index): either that index and a sort of one row, or the key in order.
  { name: 'a lead by email', tier: 'oltp', run: (q) => listLeads(q, tenant, page, 'a@b.test'), index: '(leads_tenant_email|leads_tenant_id_id_pk)', uniqueFilter: true },
  { name: 'transactional emails', tier: 'content', run: (q) => listTransactionalEmails(q, tenant, page), index: 'transactional_emails_pkey' },
  { name: 'notifications', tier: 'content', run: (q) => listNotifications(q, tenant, page), index: 'notifications_pkey' },
  { name: "a user's notifications", tier: 'content', run: (q) => listNotifications(q, tenant, page, newId()), index: 'notifications_pkey' },
]

describe('listings read their index in order', () => {
  for (const l of LISTINGS) {
    test(`${l.name}: a scan of ${l.index.replace(/[()]/g, '')}${l.uniqueFilter ? ' (one row: any sort is trivial)' : ', no sort'}`, async () => {
      const { sql, plan: text } = await plan(sys.tiers[l.tier], l.run, l.uniqueFilter ?? false)
      expect(text).toMatch(new RegExp(`Index Scan( Backward)? using ${l.index} `))
      if (!l.uniqueFilter) expect(text).not.toContain('Sort')
      // Only the filters given are in the statement: no generic `($n IS NULL OR ...)` plan.
      expect(sql).not.toMatch(/IS NULL OR/i)
    })
  }
})
