/**
 * The layout's rules, checked on the source itself so a change that breaks one fails here:
 * layers point one way (http → services → tiers → db; workers → src; nothing in src imports
 * workers), only services compose tiers, routes and job handlers call services, every job has a
 * handler file named after it, tests stand apart from the benchmarks, and every test file runs
 * the leak check.
 */
import { describe, expect, test } from 'bun:test'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { JOB_SPECS } from '../src/jobs/specs.ts'
import { HANDLERS } from '../workers/handlers/index.ts'
import { useLeakCheck } from './support/leaks.ts'

useLeakCheck()

const ROOT = resolve(import.meta.dir, '..')

interface Import {
  /** Repository-relative path of the imported file (or the package name). */
  target: string
  /** Names imported as values; type-only imports have none. */
  values: string[]
}

async function files(dir: string): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true })
  return entries.filter((e) => e.isFile() && e.name.endsWith('.ts')).map((e) => relative(ROOT, join(e.parentPath, e.name)))
}

async function importsOf(file: string): Promise<Import[]> {
  const text = await readFile(join(ROOT, file), 'utf8')
  const out: Import[] = []
  const statements = [
    ...text.matchAll(/^import\s+(type\s+)?([\s\S]*?)\s+from\s+'([^']+)'/gm),
    // Re-exports pass a module's names on: they count as importing them.
    ...text.matchAll(/^export\s+(type\s+)?(\{[^}]*\}|\*(?:\s+as\s+\w+)?)\s+from\s+'([^']+)'/gm),
  ]
  for (const m of statements) {
    const [, typeOnly, clause, spec] = m as unknown as [string, string | undefined, string, string]
    const target = spec.startsWith('.') ? relative(ROOT, resolve(dirname(join(ROOT, file)), spec)) : spec
    const named = /\{([\s\S]*)\}/.exec(clause)?.[1] ?? ''
    const defaultOrStar = clause.replace(/\{[\s\S]*\}/, '').replace(/,/g, ' ').trim()
    const values = typeOnly
      ? []
      : [
          ...named
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s && !s.startsWith('type '))
            .map((s) => s.split(/\s+as\s+/)[0]!),
          ...(defaultOrStar ? [defaultOrStar] : []),
        ]
    out.push({ target, values })
  }
  return out
}

const tierOf = (path: string) => /^src\/tiers\/(oltp|content|analytics|queue)\//.exec(path)?.[1]

/** A tier's vocabulary (constants, zod schemas) rather than its queries. */
const vocabulary = (name: string) => /^[A-Z][A-Z0-9_]*$/.test(name) || name.endsWith('Schema')
const queries = (i: Import) => i.values.filter((v) => !vocabulary(v))

/** Every import in a folder that breaks a rule, as "file → target". */
async function violations(dir: string, breaks: (file: string, imp: Import) => boolean): Promise<string[]> {
  const found: string[] = []
  for (const file of await files(dir)) {
    for (const imp of await importsOf(file)) if (breaks(file, imp)) found.push(`${file} → ${imp.target}`)
  }
  return found
}

describe('layers point one way', () => {
  test('src/ imports nothing from workers/, bin/, bench/, tests/ or datagen/', async () => {
    expect(await violations('src', (_, i) => /^(workers|bin|bench|tests|datagen)\//.test(i.target))).toEqual([])
  })

  test('only src/http/ imports src/http/ (in src/ and workers/)', async () => {
    const outside = (f: string, i: Import) => !f.startsWith('src/http/') && i.target.startsWith('src/http/')
    expect([...(await violations('src', outside)), ...(await violations('workers', outside))]).toEqual([])
  })

  test('the data layer imports nothing above it', async () => {
    expect(await violations('src/db', (_, i) => /^src\/(tiers|services|http|jobs|inbound)\//.test(i.target))).toEqual([])
  })

  test('a tier module imports no other tier', async () => {
    expect(await violations('src/tiers', (f, i) => tierOf(i.target) !== undefined && tierOf(i.target) !== tierOf(f))).toEqual([])
  })

  test('routes take only types and constants from the tiers and the data layer; everything else through a service', async () => {
    const breaks = (_: string, i: Import) => /^src\/(tiers|db)\//.test(i.target) && queries(i).length > 0
    expect(await violations('src/http', breaks)).toEqual([])
  })

  test('a job handler calls services (and enqueues its own next batch): no tier, no data layer', async () => {
    expect(await violations('workers/handlers', (_, i) => /^src\/(tiers|db)\//.test(i.target) && i.values.length > 0)).toEqual([])
  })
})

describe('only services compose tiers', () => {
  test('outside src/services/, no file imports queries from two tiers', async () => {
    const found: string[] = []
    for (const dir of ['src', 'workers', 'bin']) {
      for (const file of await files(dir)) {
        if (file.startsWith('src/services/')) continue
        const tiers = new Set((await importsOf(file)).filter((i) => queries(i).length && tierOf(i.target)).map((i) => tierOf(i.target)))
        if (tiers.size > 1) found.push(`${file}: ${[...tiers].join(', ')}`)
      }
    }
    expect(found).toEqual([])
  })
})

describe('jobs', () => {
  test('every job in the registry has a handler in a file named after it, and nothing else is registered', async () => {
    const handlerFiles = (await files('workers/handlers')).map((f) => f.replace(/^workers\/handlers\//, '').replace(/\.ts$/, ''))
    expect([...HANDLERS.keys()].sort()).toEqual(Object.keys(JOB_SPECS).sort())
    expect(handlerFiles.filter((f) => f !== 'index').sort()).toEqual(Object.keys(JOB_SPECS).sort())
    for (const name of Object.keys(JOB_SPECS)) {
      const text = await readFile(join(ROOT, 'workers/handlers', `${name}.ts`), 'utf8')
      expect({ name, defines: text.includes(`defineJob('${name}'`) }).toEqual({ name, defines: true })
    }
  })
})

describe('tests', () => {
  test('never import the benchmarks', async () => {
    expect(await violations('tests', (_, i) => i.target.startsWith('bench/'))).toEqual([])
  })

  test('every test file runs the leak check after its last test', async () => {
    const missing: string[] = []
    for (const file of (await files('tests')).filter((f) => f.endsWith('.test.ts'))) {
      const text = await readFile(join(ROOT, file), 'utf8')
      // useShapeA (tests/legacy/support.ts) calls useSystem for the legacy suites.
      if (!/\buse(System|LeakCheck|ShapeA)\(/.test(text)) missing.push(file)
    }
    expect(missing).toEqual([])
  })
})
