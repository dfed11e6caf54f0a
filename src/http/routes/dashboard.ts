/**
 * GET /dashboard: the operator dashboard, plain files under src/http/dashboard/ served as they are
 * (no build step, nothing from another origin, so it works offline). Public, like /docs: the page
 * holds no data; its script asks for the admin token and polls /v1/admin/overview with it.
 *
 * The page runs with a Content-Security-Policy that allows script, style and requests from this
 * origin only and nothing inline: even if a value from the API (a job name, an error text) were
 * ever written as markup, no script in it could run. Files are read once, when the app is built,
 * so a missing one fails at start rather than at the first visit.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Hono } from 'hono'

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')

const FILES = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.css': { file: 'app.css', type: 'text/css; charset=utf-8' },
  '/icon.svg': { file: 'icon.svg', type: 'image/svg+xml' },
} as const

export function dashboardRoutes() {
  const app = new Hono()
  for (const [path, { file, type }] of Object.entries(FILES)) {
    const body = readFileSync(new URL(`../dashboard/${file}`, import.meta.url))
    const etag = `"${createHash('sha256').update(body).digest('hex').slice(0, 32)}"`
    const headers = {
      'content-type': type,
      etag,
      // Revalidated on each load, so a new version is picked up at once; the ETag makes that a 304.
      'cache-control': 'no-cache',
      'content-security-policy': DASHBOARD_CSP,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    }
    app.get(path, (c) => {
      if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers)
      return c.body(body, 200, headers)
    })
  }
  return app
}
