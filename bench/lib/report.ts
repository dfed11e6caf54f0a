import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { postgresDb } from '../../src/db/postgres.ts'
import { BENCH_PG_URL, serverVersion } from './pg.ts'

export const RESULTS_DIR = join(import.meta.dir, '..', 'results')

export interface Row {
  benchmark: string
  case: string
  /** Our path. */
  ours: string
  /** The raw baseline measured in the same run. */
  baseline: string
  /** ours / baseline for throughput, baseline / ours for latency: above 1 is better for us. */
  ratio: number | null
  note?: string
}

export interface Section {
  name: string
  rows: Row[]
  data: Record<string, unknown>
}

export function machine() {
  const cpu = cpus()
  return { cpu: cpu[0]?.model ?? 'unknown', cores: cpu.length, memory_gib: Math.round(totalmem() / 2 ** 30), bun: Bun.version }
}

export function markdownTable(rows: readonly Row[]): string {
  const lines = ['| benchmark | case | ours | baseline | ratio | note |', '|---|---|---|---|---|---|']
  for (const r of rows) {
    lines.push(`| ${r.benchmark} | ${r.case} | ${r.ours} | ${r.baseline} | ${r.ratio === null ? '–' : `${r.ratio.toFixed(2)}x`} | ${r.note ?? ''} |`)
  }
  return lines.join('\n')
}

/** Writes results/<file>.json and .md; merges into an existing file so runs of single benchmarks add up. */
export async function writeResults(file: string, sections: Section[], extra: Record<string, unknown> = {}) {
  await mkdir(RESULTS_DIR, { recursive: true })
  const path = join(RESULTS_DIR, `${file}.json`)
  const previous = JSON.parse(await readFile(path, 'utf8').catch(() => '{}')) as { sections?: Record<string, Section> }
  const merged = { ...previous.sections, ...Object.fromEntries(sections.map((s) => [s.name, s])) }
  const result = { date: new Date().toISOString(), machine: machine(), ...extra, sections: merged }
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`)
  const table = markdownTable(Object.values(merged).flatMap((s) => s.rows))
  await writeFile(join(RESULTS_DIR, `${file}.md`), `${table}\n`)
  return { path, table }
}

export async function postgresVersion(): Promise<string> {
  const db = postgresDb(BENCH_PG_URL, { max: 1 })
  try {
    return await serverVersion(db)
  } finally {
    await db.close()
  }
}

/** This run's rows beside the same rows (benchmark + case) of an earlier results file. */
export async function compareWith(file: string, sections: readonly Section[]): Promise<string> {
  const before = JSON.parse(await readFile(file, 'utf8')) as { date: string; sections: Record<string, Section> }
  const earlier = new Map(Object.values(before.sections).flatMap((s) => s.rows.map((r) => [`${r.benchmark}|${r.case}`, r] as const)))
  const lines = [
    `Compared with ${file} (${before.date}):`,
    '',
    '| benchmark | case | ours then | ours now | ratio then | ratio now |',
    '|---|---|---|---|---|---|',
  ]
  const x = (r: number | null | undefined) => (r == null ? '–' : `${r.toFixed(2)}x`)
  for (const r of sections.flatMap((s) => s.rows)) {
    const then = earlier.get(`${r.benchmark}|${r.case}`)
    lines.push(`| ${r.benchmark} | ${r.case} | ${then?.ours ?? 'not in that run'} | ${r.ours} | ${x(then?.ratio)} | ${x(r.ratio)} |`)
  }
  return lines.join('\n')
}
