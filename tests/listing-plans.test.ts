import { describe, expect, test } from 'bun:test'
import type { Queryable } from '../src/db/types.ts'
import { newId } from '../src/ids.ts'
import { listMessageRefs } from '../src/tiers/oltp/messages.ts'
import { createTenant } from './support/api.ts'
import { useSystem } from './support/system.ts'

const sys = useSystem()

/** Runs the listing's own SQL under EXPLAIN, with sequential scans and sorts priced out. */
async function plan(run: (q: Queryable) => Promise<unknown>): Promise<string> {
  let captured: { text: string; params: readonly unknown[] } | undefined
  await run({
    query: async (text, params = []) => {
      captured = { text, params }
      return []
    },
    exec: async () => {},
  } as Queryable)
  return sys.tiers.oltp.transaction(async (tx) => {
    await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_sort = off; SET LOCAL enable_bitmapscan = off')
    const rows = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${captured!.text}`, captured!.params)
    return rows.map((r) => r['QUERY PLAN']).join('\n')
  })
}

describe('listings read their index in order', () => {
  // An index built DESC NULLS LAST cannot supply ORDER BY id DESC: every listing then sorted the
  // whole mailbox, 30-300 ms at 1M messages. A Sort node here is that regression.
  const indexes = { emailAccountId: 'account', campaignId: 'campaign', leadId: 'lead' } as const
  for (const [filter, index] of Object.entries(indexes) as [keyof typeof indexes, string][]) {
    test(`by ${filter}: a scan of inbox_message_refs_${index}, no sort`, async () => {
      const t = await createTenant(sys, `plans-${filter}`)
      const text = await plan((q) => listMessageRefs(q, t.id, { [filter]: newId(), limit: 50 }))
      expect(text).toContain(`Index Scan using inbox_message_refs_${index} `)
      expect(text).not.toContain('Sort')
    })
  }
})
