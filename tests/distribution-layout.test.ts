/**
 * Every table of the OLTP and content tiers has a decided place on a Citus cluster
 * (src/db/distribution.ts): a table a migration adds without one would stay on the coordinator
 * unnoticed. Runs on every engine: the check reads the migrated schema, not a cluster.
 */
import { describe, expect, test } from 'bun:test'
import { LAYOUT } from '../src/db/distribution.ts'
import { useSystem } from './support/system.ts'

const sys = useSystem()

describe('the cluster layout', () => {
  for (const tier of ['oltp', 'content'] as const) {
    test(`every ${tier} table is a reference, distributed or coordinator table, exactly once`, async () => {
      const layout = LAYOUT[tier]!
      const placed = [...layout.reference, ...layout.distributed, ...Object.keys(layout.coordinator)]
      expect(new Set(placed).size).toBe(placed.length)
      const tables = await sys.tiers[tier].query<{ name: string }>(`SELECT format('%s.%s', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [tier])
      expect(placed.sort()).toEqual(tables.map((t) => t.name))
      // Every distributed table carries the distribution column.
      const withTenant = await sys.tiers[tier].query<{ name: string }>(
        `SELECT format('%s.%s', table_schema, table_name) AS name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant_id' AND is_nullable = 'NO'`,
        [tier],
      )
      expect(layout.distributed.filter((t) => !withTenant.some((w) => w.name === t))).toEqual([])
    })
  }
})
