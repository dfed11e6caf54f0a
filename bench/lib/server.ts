/** Starts the real API + workers (`bin/start.ts`), or another entry point, as a child process against the bench database. */
import { join } from 'node:path'

export interface RunningServer {
  url: string
  stop(): Promise<void>
  /** With { accessLog: true }: every stdout line after "api listening". */
  accessLog?: string[]
  /** The server's own time (duration_ms of its access log) for a route's requests since line `from`. */
  durations(route: string, from?: number): number[]
}

export async function startServer(
  databaseUrl: string,
  env: Record<string, string> = {},
  entry = 'bin/start.ts',
  { accessLog = false }: { accessLog?: boolean } = {},
): Promise<RunningServer> {
  const proc = Bun.spawn([process.execPath, entry], {
    cwd: join(import.meta.dir, '..', '..'),
    env: {
      ...process.env,
      OLTP_DATABASE_URL: databaseUrl,
      CONTENT_DATABASE_URL: databaseUrl,
      ANALYTICS_DATABASE_URL: databaseUrl,
      QUEUE_DATABASE_URL: databaseUrl,
      DATABASE_URL: databaseUrl,
      ADMIN_TOKEN: 'bench-admin-token-0123456789',
      // Server mode needs a content master key; the benchmarks' data is throwaway.
      CONTENT_MASTER_KEY: Buffer.alloc(32, 1).toString('base64'),
      WORKERS_IN_PROCESS: 'true',
      PORT: '0',
      LOG_LEVEL: 'info',
      // Benchmarks measure throughput, far past the default per-key limit; the limiter still runs
      // (its own cost is the rate-limit section's subject).
      RATE_LIMIT_PER_S: '100000',
      RATE_LIMIT_BURST: '1000000',
      ...env,
    },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const decoder = new TextDecoder()
  // One reader for the child's whole life: leaving a for-await loop would cancel the stream and
  // the child would die of EPIPE at its next log line.
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader()
  let text = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
    const line = text.split('\n').find((l) => l.includes('"api listening"'))
    if (line) {
      const lines: string[] | undefined = accessLog ? [] : undefined
      void (async () => {
        let rest = ''
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          if (!lines) continue
          const parts = (rest + decoder.decode(value)).split('\n')
          rest = parts.pop()!
          lines.push(...parts)
        }
      })().catch(() => {})
      return {
        url: JSON.parse(line).url.replace(/\/$/, ''),
        accessLog: lines,
        durations: (route, from = 0) =>
          (lines ?? [])
            .slice(from)
            .filter((l) => l.includes(`"route":"${route}"`))
            .map((l) => JSON.parse(l).duration_ms as number),
        async stop() {
          proc.kill('SIGTERM')
          await proc.exited
        },
      }
    }
  }
  throw new Error(`server exited before listening:\n${text}`)
}

export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789'

export async function api(base: string, token: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const json = (await res.json()) as any
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}
