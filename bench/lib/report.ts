import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'

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
