/**
 * `npm run openapi:json`, `npm run openapi:types`: the OpenAPI document as the app serves it at
 * /openapi.json, taken from the app in-process (no server, no port), and the typed client
 * generated from it. The app is built over an empty in-memory PGlite: describing the routes runs
 * no query, so nothing is migrated and nothing under DATA_DIR is touched.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { commandLine, runCommand, UsageError } from '../src/cli.ts'
import { loadConfig } from '../src/config.ts'
import { openPglite, pgliteDb } from '../src/db/pglite.ts'
import { tiersFrom } from '../src/db/tiers.ts'
import { createApp } from '../src/http/app.ts'
import { buildDeps, createLogger } from '../src/system.ts'

const cli = {
  name: 'openapi',
  usage: `usage: bun run bin/openapi.ts json [FILE] | types FILE

  json [FILE]    the OpenAPI document the app serves at /openapi.json (stdout without a FILE)
  types FILE     the openapi-typescript types of it (npm run openapi:types)

Builds the app over an empty in-memory database: touches no DATA_DIR and no *_DATABASE_URL.`,
}

export async function openApiDocument(): Promise<object> {
  const config = loadConfig({ LOG_LEVEL: 'silent' })
  const db = pgliteDb(await openPglite(), 'pglite:memory')
  const tiers = tiersFrom({ oltp: db, content: db, analytics: db, queue: db })
  try {
    const deps = buildDeps(tiers, { config, log: createLogger(config), adminToken: randomBytes(24).toString('hex') })
    const res = await createApp(deps).request('/openapi.json')
    if (!res.ok) throw new Error(`/openapi.json answered ${res.status}`)
    return (await res.json()) as object
  } finally {
    await tiers.close()
  }
}

async function main() {
  const [what, file, ...rest] = commandLine(cli, {}, { positionals: true }).positionals
  if (what !== 'json' && what !== 'types') throw new UsageError(what ? `unknown output ${what}` : 'name an output: json or types')
  if (what === 'types' && !file) throw new UsageError('types needs a FILE')
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`)
  const document = await openApiDocument()
  // Imported only here: it loads TypeScript 5's compiler, which `json` does not need.
  const text = what === 'json' ? `${JSON.stringify(document, null, 2)}\n` : await (await import('@edp/openapi-codegen')).generateTypes(document)
  if (file) {
    await mkdir(dirname(file), { recursive: true })
    await writeFile(file, text)
  }
  else process.stdout.write(text)
}

if (import.meta.main) await runCommand(cli, main)
