/**
 * An API process for the group-commit crash test: the real app over the tiers its environment
 * names, except that the first group of several messages whose content commits after
 * BLOCK_AFTER content transactions never reaches its OLTP transaction: the process prints
 * "group content committed <n>" and waits there for the test's SIGKILL.
 */
import pino from 'pino'
import { loadConfig } from '../../src/config.ts'
import { openTiers, tiersFrom } from '../../src/db/tiers.ts'
import type { Db } from '../../src/db/types.ts'
import { createApp } from '../../src/http/app.ts'
import { buildDeps } from '../../src/system.ts'

const config = loadConfig()
const tiers = await openTiers(config, 'edp-test-group-crash')
const blockAfter = Number(process.env.BLOCK_AFTER ?? 10)
let commits = 0
let blocked = false
const content: Db = {
  ...tiers.content,
  transaction: async (fn) => {
    let bodies = 0
    const result = await tiers.content.transaction((tx) =>
      fn({
        query: async <T extends object>(text: string, params?: readonly unknown[]) => {
          const rows = await tx.query<T>(text, params)
          // One row returned per body stored, however many one statement holds.
          if (text.includes('INSERT INTO content.content_objects')) bodies += rows.length
          return rows
        },
        exec: (text) => tx.exec(text),
      }),
    )
    commits++
    if (bodies > 1 && commits > blockAfter && !blocked) {
      blocked = true
      console.log(`group content committed ${bodies}`)
      await new Promise(() => {}) // the OLTP transaction of this group never starts
    }
    return result
  },
}
const deps = buildDeps(tiersFrom({ ...tiers, content }), { config, log: pino({ level: 'silent' }), adminToken: config.ADMIN_TOKEN! })
const server = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: createApp(deps).fetch })
console.log(`listening ${server.url.href}`)
