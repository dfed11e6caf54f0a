/**
 * The API alone, as a module whose default export is `{ fetch }` (src/http/handler.ts): server
 * mode only, configured from the environment like every entry; migrations (`npm run migrate`) and
 * workers (`npm run workers`) run elsewhere.
 *
 *   deno serve --allow-env --allow-net --allow-read --allow-sys --port 3000 bin/api.ts
 *   bun bin/api.ts           (Bun serves a default export itself, on PORT and HOST)
 *
 * `npm start` (bin/start.ts) stays the whole process: migrations, and the workers in embedded mode.
 */
import { ConfigError, loadConfig } from '../src/config.ts'
import { apiHandler } from '../src/http/handler.ts'
import { runtime } from '../src/runtime.ts'

async function boot() {
  try {
    const config = loadConfig()
    return { config, api: await apiHandler(config) }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    console.error(err.message)
    process.exit(2)
  }
}

const { config, api } = await boot()

// On SIGTERM/SIGINT `deno serve` stops listening, lets requests in flight finish and exits once
// nothing holds its event loop: the pools would, so they close once those requests are done. Bun
// keeps serving this module whatever its listeners do, so it exits when they are closed.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, async () => {
    await api.close()
    if (runtime !== 'deno') process.exit(0)
  })
}

export default {
  fetch: api.fetch,
  // Read by Bun when it serves this module; `deno serve` takes --port and --host instead.
  port: config.PORT,
  hostname: config.HOST,
  idleTimeout: 120, // seconds; Bun's default of 10 closes keep-alive sockets load balancers still use
  maxRequestBodySize: config.MAX_BODY_BYTES + 1024,
}
