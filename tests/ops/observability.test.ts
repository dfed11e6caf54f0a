/**
 * The alert rules (ops/prometheus/alerts.yml) and the Grafana dashboard (ops/grafana/dashboard.json)
 * name only series the API exports: renaming a metric without them fails here. (CI also runs
 * `promtool check rules` and `promtool test rules` on the alerts.)
 */
import { describe, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from '../support/child.ts'
import { call } from '../support/api.ts'
import { ADMIN_TOKEN, makeDeps, testConfig, useSystem } from '../support/system.ts'
import { createApp } from '../../src/http/app.ts'
import { recordHeartbeat } from '../../src/tiers/queue/schedules.ts'

const sys = useSystem()

/** Metric names in PromQL text: identifiers that are neither functions nor keywords nor labels. */
function seriesIn(expr: string): string[] {
  const noLabels = expr.replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '')
  const words = noLabels.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []
  const promql = new Set(['sum', 'by', 'max', 'min', 'rate', 'topk', 'histogram_quantile', 'absent', 'le', 'without', 'avg', 'count', 'on'])
  return words.filter((w) => !promql.has(w) && /^(edp_|up$)/.test(w))
}

/** Every series the API exports once everything optional is present (a worker heartbeat, a backup set). */
async function exported(): Promise<Set<string>> {
  const dir = await mkdtemp(join(tmpdir(), 'edp-obs-'))
  try {
    const set = join(dir, 'set-2026-12-02T00-00-00.000Z')
    await mkdir(set)
    await writeFile(join(set, 'manifest.json'), JSON.stringify({ format: 1, finished_at: new Date().toISOString(), files: [] }))
    await recordHeartbeat(sys.tiers.queue, 'observability-test')
    const deps = makeDeps(sys.tiers, { config: testConfig({ BACKUP_DIR: dir }) })
    const text = (await call({ ...sys, deps, app: createApp(deps) }, 'GET', '/metrics', { token: ADMIN_TOKEN })).body as string
    await deps.monitor.stop()
    const names = new Set<string>()
    for (const m of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      names.add(m[1]!)
      if (m[2] === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${m[1]}${suffix}`)
    }
    return names
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('alerts and dashboard', () => {
  test('every series the alert rules and the dashboard query is exported by /metrics', async () => {
    const names = await exported()
    names.add('up') // Prometheus's own, per scrape target
    const alerts = await readFile(join(ROOT, 'ops/prometheus/alerts.yml'), 'utf8')
    const alertExprs = [...alerts.matchAll(/^\s+expr: (.+)$/gm)].map((m) => m[1]!)
    const dashboard = JSON.parse(await readFile(join(ROOT, 'ops/grafana/dashboard.json'), 'utf8')) as { panels: { targets?: { expr: string }[] }[] }
    const panelExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
    expect(alertExprs.length).toBeGreaterThanOrEqual(9)
    expect(panelExprs.length).toBeGreaterThan(15)
    const unknown = [...alertExprs, ...panelExprs].flatMap((e) => seriesIn(e).filter((s) => !names.has(s)).map((s) => `${s} in ${e}`))
    expect(unknown).toEqual([])
    // Every alert the issue asks for is there.
    for (const name of ['AnalyticsStale', 'QueueMessageOld', 'DeadLetters', 'TierDown', 'BackupOld', 'PoolSaturated']) expect(alerts).toContain(`alert: ${name}`)
  })
})
