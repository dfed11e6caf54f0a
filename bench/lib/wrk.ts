/**
 * HTTP load from a second process with wrk (Debian's `wrk` package): a closed loop of N
 * connections, each request a random pick from a list of (method, path, body) with its API key.
 * A Lua script generated per run picks the requests and prints the result as JSON.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface WrkRequest {
  path: string
  key: string
  method?: 'GET' | 'POST'
  body?: string
}

export interface WrkResult {
  requests: number
  per_second: number
  p50_ms: number
  p99_ms: number
  max_ms: number
  /** Non-2xx answers and socket errors: a run with any is reported, not trusted. */
  errors: number
}

export const hasWrk = () => Bun.which('wrk') !== null

const lua = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`

function script(requests: readonly WrkRequest[]): string {
  const entries = requests.map((r) => {
    const headers = `{ ["Authorization"] = ${lua(`Bearer ${r.key}`)}${r.body ? ', ["Content-Type"] = "application/json"' : ''} }`
    return `    wrk.format(${lua(r.method ?? 'GET')}, ${lua(r.path)}, ${headers}${r.body ? `, ${lua(r.body)}` : ''}),`
  })
  // Requests are built in init(): wrk sets the Host header only once a thread is set up.
  return `local reqs = {}
init = function(args)
  reqs = {
${entries.join('\n')}
  }
end
math.randomseed(7)
request = function() return reqs[math.random(#reqs)] end
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"max_us":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max, errors))
end
`
}

export async function wrk(base: string, requests: readonly WrkRequest[], connections: number, seconds: number): Promise<WrkResult> {
  const dir = await mkdtemp(join(tmpdir(), 'edp-wrk-'))
  try {
    const file = join(dir, 'requests.lua')
    await writeFile(file, script(requests))
    const proc = Bun.spawn(['wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', file, base], { stdout: 'pipe', stderr: 'pipe' })
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()])
    await proc.exited
    const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '))
    if (!line) throw new Error(`wrk printed no result:\n${out}\n${err}`)
    const r = JSON.parse(line.slice(9))
    return {
      requests: r.requests,
      per_second: r.requests / (r.duration_us / 1e6),
      p50_ms: r.p50_us / 1000,
      p99_ms: r.p99_us / 1000,
      max_ms: r.max_us / 1000,
      errors: r.errors,
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
