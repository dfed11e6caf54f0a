// The operator dashboard: polls GET /v1/admin/overview with the admin token and shows it. The
// token is typed in and kept in sessionStorage (this tab only); the page itself holds no data.
// Everything from the API is written with textContent or SVG attributes, never parsed as HTML:
// job names and error texts come from queue messages, which anyone who can enqueue can shape.
'use strict'

const TOKEN_KEY = 'edp.adminToken'
const OVERVIEW = '/v1/admin/overview'
/** Polls kept for the sparklines: five minutes at the default interval. */
const HISTORY = 60
const SVG = 'http://www.w3.org/2000/svg'

const history = []
let timer
let polls = 0

const $ = (selector) => document.querySelector(selector)
const field = (name) => document.querySelector(`[data-field="${name}"]`)

/** A new element with text (never markup) and attributes. */
function el(tag, text, attrs = {}) {
  const node = document.createElement(tag)
  if (text !== undefined && text !== null) node.textContent = String(text)
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v))
  return node
}

/** Sets a field's shown text, and its exact value for tooltips (and tests). */
function show(name, text, value) {
  const node = field(name)
  if (!node) return
  node.textContent = text
  if (value === undefined || value === null) {
    node.removeAttribute('data-value')
    node.removeAttribute('title')
  } else {
    node.setAttribute('data-value', String(value))
    node.setAttribute('title', String(value))
  }
}

// Formats: fixed (en-US, UTC) so that what is shown does not depend on the browser's locale.
const count = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US'))
const UNITS = ['KiB', 'MiB', 'GiB', 'TiB']
function bytes(n) {
  if (n === null || n === undefined) return '–'
  if (n < 1024) return `${n} B`
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(1)} ${UNITS[i]}`
}
function age(s) {
  if (s === null || s === undefined) return '–'
  if (s < 10) return `${s.toFixed(1)} s`
  if (s < 120) return `${Math.round(s)} s`
  if (s < 7200) return `${Math.round(s / 60)} min`
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`
  return `${(s / 86400).toFixed(1)} d`
}
const rate = (r) => `${r.toFixed(2)}`
const when = (iso) => (iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '–')

// --- sign-in -----------------------------------------------------------------------------------

function showLogin(message) {
  clearTimeout(timer)
  history.length = 0
  polls = 0
  $('#board').hidden = true
  $('#status').hidden = true
  $('#login').hidden = false
  const error = $('#login-error')
  error.hidden = !message
  error.textContent = message || ''
  $('#token').focus()
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY)
  showLogin('')
}

/** Seconds between polls: ?interval= (1-300), else what the server says its figures change by. */
function interval(serverSeconds) {
  const asked = Number(new URLSearchParams(location.search).get('interval'))
  if (asked >= 1 && asked <= 300) return asked
  return serverSeconds || 5
}

// --- polling -----------------------------------------------------------------------------------

async function poll() {
  const token = sessionStorage.getItem(TOKEN_KEY)
  if (!token) return showLogin('')
  let next = interval()
  try {
    const res = await fetch(OVERVIEW, { headers: { authorization: `Bearer ${token}`, accept: 'application/json' }, cache: 'no-store' })
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY)
      return showLogin('The admin token was refused (401). Use ADMIN_TOKEN or one of ADMIN_TOKENS.')
    }
    if (!res.ok) {
      const problem = await res.json().catch(() => ({}))
      banner(`The overview answered ${res.status}${problem.request_id ? ` (request id ${problem.request_id})` : ''}; showing the last figures.`)
    } else {
      const data = await res.json()
      next = interval(data.poll_interval_seconds)
      remember(data)
      render(data)
      polls++
      show('poll', `every ${next} s · ${polls} poll${polls === 1 ? '' : 's'}`)
    }
  } catch (err) {
    banner(`Cannot reach the API (${err.message}); trying again.`)
  }
  $('#login').hidden = true
  $('#board').hidden = false
  $('#status').hidden = false
  timer = setTimeout(poll, next * 1000)
}

function banner(text) {
  const node = $('#banner')
  node.hidden = !text
  node.textContent = text || ''
}

function remember(data) {
  const queues = {}
  for (const q of data.queues || []) queues[q.queue] = { depth: q.depth, oldest: q.oldest_age_seconds }
  history.push({ queues, freshness: data.analytics ? data.analytics.freshness_seconds : null })
  if (history.length > HISTORY) history.shift()
}

// --- rendering ---------------------------------------------------------------------------------

function render(d) {
  banner(d.unavailable.length ? `Could not read: ${d.unavailable.join(', ')} (the server log says why).` : '')
  const ready = field('ready')
  ready.textContent = d.ready ? 'ready' : 'not ready'
  ready.className = `pill ${d.ready ? 'ok' : 'bad'}`
  show('generated_at', when(d.generated_at), d.generated_at)
  renderHealth(d)
  renderQueues(d.queues)
  renderAnalytics(d.analytics)
  renderStorage(d.storage)
  renderBackups(d.backups)
  renderFailures(d.recent_failures)
  renderDeadLetters(d.dead_letters)
}

function renderHealth(d) {
  const list = $('#tiers')
  list.replaceChildren()
  for (const [tier, s] of Object.entries(d.tiers || {})) {
    const item = el('li', null, { class: s.ok ? 'ok' : 'bad', 'data-tier': tier })
    item.append(el('strong', tier), el('span', s.ok ? 'ok' : s.detail || 'not ok'))
    list.append(item)
  }
  const w = d.workers
  show('workers.state', w ? (w.ok ? 'alive or not needed' : 'gone') : '–')
  field('workers.state').className = w && !w.ok ? 'bad' : ''
  show('workers.heartbeat', w && w.heartbeat_age_seconds !== null ? `${age(w.heartbeat_age_seconds)} ago` : 'never', w && w.heartbeat_age_seconds)
  show('workers.detail', (w && w.detail) || '')
}

function renderQueues(queues) {
  const body = $('#queue-rows')
  body.replaceChildren()
  for (const q of queues || []) {
    const row = el('tr', null, { 'data-queue': q.queue })
    const cell = (text, value, cls = 'num') => {
      const td = el('td', text, { class: cls })
      if (value !== undefined) td.setAttribute('data-value', String(value))
      return td
    }
    const depthChart = chartCell(history.map((h) => (h.queues[q.queue] ? h.queues[q.queue].depth : null)), `depth of ${q.queue}`, `depth:${q.queue}`)
    const ageChart = chartCell(history.map((h) => (h.queues[q.queue] ? h.queues[q.queue].oldest : null)), `oldest age in ${q.queue}`, `oldest:${q.queue}`, ' s')
    row.append(
      el('th', q.queue, { scope: 'row' }),
      cell(count(q.depth), q.depth),
      cell(age(q.oldest_age_seconds), q.oldest_age_seconds ?? ''),
      cell(rate(q.processed_per_second), q.processed_per_second),
      cell(rate(q.failed_per_second), q.failed_per_second),
      cell(count(q.dead_letters), q.dead_letters),
      depthChart,
      ageChart,
    )
    row.children[1].setAttribute('data-col', 'depth')
    row.children[2].setAttribute('data-col', 'oldest')
    row.children[5].setAttribute('data-col', 'dead')
    body.append(row)
  }
}

function renderAnalytics(a) {
  const state = field('analytics.state')
  state.textContent = a ? a.state : 'unavailable'
  state.className = `pill ${a && a.state === 'fresh' ? 'ok' : a && a.state === 'lagging' ? 'warn' : 'bad'}`
  show('analytics.freshness', a ? `${age(a.freshness_seconds)} behind` : '–', a && a.freshness_seconds)
  show('analytics.as_of', a ? when(a.as_of) : '–', a && a.as_of)
  show('analytics.refresh', a && a.refresh_duration_ms !== null ? `${a.refresh_duration_ms} ms` : '–', a && a.refresh_duration_ms)
  show('analytics.chart', scale(sparkline($('#chart-freshness'), history.map((h) => h.freshness)), ' s'))
}

function renderStorage(s) {
  const tiers = $('#tier-bytes')
  tiers.replaceChildren()
  if (!s) return
  for (const [tier, n] of Object.entries(s.tier_bytes)) {
    tiers.append(el('dt', `${tier} tier on disk`), el('dd', bytes(n), { 'data-tier-bytes': tier, 'data-value': n, title: `${n} bytes` }))
  }
  const c = s.content
  show('storage.read_at', when(s.read_at), s.read_at)
  show('storage.objects', count(c.objects), c.objects)
  show('storage.raw_bytes', bytes(c.raw_bytes), c.raw_bytes)
  show('storage.stored_bytes', bytes(c.stored_bytes), c.stored_bytes)
  show('storage.ratio', c.stored_bytes > 0 ? `${(c.raw_bytes / c.stored_bytes).toFixed(1)}× smaller` : '–')
  show('storage.archived_expired', `${count(c.archived_objects)} / ${count(c.expired_objects)}`)
  show('storage.attachments', count(c.attachments.count), c.attachments.count)
  show('storage.unique_blobs', count(c.attachments.unique_blobs), c.attachments.unique_blobs)
  show('storage.attachment_raw', bytes(c.attachments.raw_bytes), c.attachments.raw_bytes)
  show('storage.attachment_stored', bytes(c.attachments.stored_bytes), c.attachments.stored_bytes)
}

function renderBackups(b) {
  const list = $('#backup-sets')
  list.replaceChildren()
  if (!b) return show('backups.newest', 'unavailable')
  if (!b.configured) return show('backups.newest', 'not scheduled: BACKUP_DIR is not set')
  show('backups.newest', b.newest_age_seconds === null ? 'none yet' : `${age(b.newest_age_seconds)} ago`, b.newest_age_seconds)
  for (const set of b.sets) {
    const item = el('li', null, { class: set.finished_at ? '' : 'warn' })
    item.append(el('code', set.name), el('span', set.finished_at ? ` finished ${when(set.finished_at)}` : ' incomplete'))
    list.append(item)
  }
}

function renderFailures(failures) {
  const body = $('#failure-rows')
  body.replaceChildren()
  if (!failures || failures.length === 0) return body.append(emptyRow(7, failures ? 'No failed attempts in the job log.' : 'Unavailable.'))
  for (const f of failures) {
    body.append(row([when(f.finished_at), f.queue, f.job, f.msg_id, f.attempt, f.outcome, f.error], { 'data-failure': f.id, class: f.outcome }))
  }
}

function renderDeadLetters(d) {
  show('dead.total', d && d.total !== null ? count(d.total) : '–', d && d.total)
  const body = $('#dead-rows')
  body.replaceChildren()
  if (!d || d.newest.length === 0) return body.append(emptyRow(5, d ? 'No dead letters.' : 'Unavailable.'))
  for (const x of d.newest) body.append(row([when(x.failed_at), x.queue, x.job, x.msg_id, x.error], { 'data-dead-letter': x.msg_id }))
}

function row(cells, attrs) {
  const tr = el('tr', null, attrs)
  for (const c of cells) tr.append(el('td', c ?? '–'))
  return tr
}

function emptyRow(span, text) {
  const tr = el('tr', null, { class: 'empty' })
  tr.append(el('td', text, { colspan: span }))
  return tr
}

// --- charts ------------------------------------------------------------------------------------

function chartCell(values, label, name, unit = '') {
  const td = el('td', null, { class: 'chart' })
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('class', 'spark')
  svg.setAttribute('data-chart', name)
  svg.setAttribute('viewBox', '0 0 100 24')
  svg.setAttribute('preserveAspectRatio', 'none')
  svg.setAttribute('role', 'img')
  svg.setAttribute('aria-label', `${label} over the last polls`)
  td.append(svg, el('span', scale(sparkline(svg, values), unit), { class: 'scale' }))
  return td
}

/** The caption under a chart: its top is the largest value drawn. */
const scale = (max, unit = '') => (max === null ? 'no data yet' : `max ${Math.round(max * 10) / 10}${unit}`)

/** Draws the values (nulls are gaps) left to right, scaled from 0 to their maximum; returns that maximum (null: none). */
function sparkline(svg, values) {
  svg.replaceChildren()
  const known = values.filter((v) => v !== null && v !== undefined)
  const max = Math.max(1, ...known)
  const step = values.length > 1 ? 100 / (values.length - 1) : 0
  const points = []
  values.forEach((v, i) => {
    if (v === null || v === undefined) return
    points.push(`${(i * step).toFixed(2)},${(23 - (v / max) * 22).toFixed(2)}`)
  })
  svg.setAttribute('data-points', String(points.length))
  if (points.length === 0) return null
  const line = document.createElementNS(SVG, 'polyline')
  line.setAttribute('points', points.join(' '))
  line.setAttribute('vector-effect', 'non-scaling-stroke')
  svg.append(line)
  const title = document.createElementNS(SVG, 'title')
  title.textContent = `${scale(Math.max(...known))} over ${values.length} polls`
  svg.append(title)
  return Math.max(...known)
}

// --- start -------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('#login-form').addEventListener('submit', (event) => {
    event.preventDefault()
    const token = $('#token').value.trim()
    if (!token) return showLogin('Type the admin token.')
    sessionStorage.setItem(TOKEN_KEY, token)
    $('#token').value = ''
    clearTimeout(timer)
    void poll()
  })
  $('#sign-out').addEventListener('click', signOut)
  if (sessionStorage.getItem(TOKEN_KEY)) void poll()
  else showLogin('')
})
