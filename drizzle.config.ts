// drizzle-kit generates one migration folder per tier: TIER=oltp npx drizzle-kit generate
import { defineConfig } from 'drizzle-kit'

const tiers = ['oltp', 'content', 'analytics', 'queue'] as const
const tier = process.env.TIER as (typeof tiers)[number]
if (!tiers.includes(tier)) throw new Error(`set TIER to one of ${tiers.join(', ')}`)

export default defineConfig({
  dialect: 'postgresql',
  schema: `./src/tiers/${tier}/schema.ts`,
  out: `./sql/${tier}`,
  schemaFilter: [tier],
})
