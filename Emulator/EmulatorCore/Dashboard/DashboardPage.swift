/// The emulator's web dashboard (`GET /__emulator/`): one static page, no build step. It polls
/// `GET /__emulator/state` every second and reads an org's documents and jobs through the API
/// with a development token from `GET /__emulator/token?org=`.
enum DashboardPage {
    static let html: String = ##"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Emulator dashboard</title>
<link rel="icon" href="data:,">
<style>
  :root { --fg: #111827; --muted: #4b5563; --line: #d1d5db; --bg: #f3f4f6; --panel: #fff; --focus: #1d4ed8; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
  header { display: flex; align-items: center; gap: 1.5rem; flex-wrap: wrap; padding: .6rem 1.25rem; background: var(--panel); border-bottom: 1px solid var(--line); }
  header h1 { font-size: 1.2rem; margin: 0; }
  header p { margin: 0; }
  #status { flex: 1; min-width: 20rem; color: var(--muted); }
  #status.error { color: #991b1b; font-weight: 600; }
  main { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 1rem; padding: 1rem 1.25rem; }
  section { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: .75rem 1rem; min-width: 0; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 1.05rem; margin: 0 0 .5rem; }
  h3 { font-size: .95rem; margin: .75rem 0 .35rem; }
  .scroll { overflow-x: auto; }
  table { border-collapse: collapse; width: 100%; }
  caption { text-align: left; color: var(--muted); padding: .25rem 0; caption-side: top; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  thead th { background: #f9fafb; font-weight: 600; white-space: nowrap; }
  tbody th { font-weight: 600; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  td.empty { color: var(--muted); font-style: italic; }
  code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
  pre { margin: 0; padding: .5rem; background: #f9fafb; border: 1px solid var(--line); border-radius: 4px; white-space: pre-wrap; word-break: break-all; max-height: 24rem; overflow: auto; }
  small, .muted { color: var(--muted); }
  button { font: inherit; padding: .2rem .65rem; border: 1px solid #374151; border-radius: 4px; background: #fff; color: var(--fg); cursor: pointer; }
  button:hover:not(:disabled) { background: #e5e7eb; }
  button:disabled { color: #6b7280; border-color: #9ca3af; cursor: default; }
  button.row-toggle { border: none; background: none; padding: 0; text-decoration: underline; white-space: nowrap; }
  button.row-toggle .arrow { display: inline-block; width: 1em; transition: transform .1s; }
  button.row-toggle[aria-expanded="true"] .arrow { transform: rotate(90deg); }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  tr.clickable { cursor: pointer; }
  tr.clickable:hover { background: #f9fafb; }
  .badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: 12.5px; font-weight: 600; white-space: nowrap; border: 1px solid transparent; }
  .good { color: #14532d; background: #dcfce7; border-color: #86efac; }
  .bad { color: #7f1d1d; background: #fee2e2; border-color: #fca5a5; }
  .warn { color: #713f12; background: #fef3c7; border-color: #fcd34d; }
  .neutral { color: #1f2937; background: #e5e7eb; border-color: #d1d5db; }
  tr.firing td { background: #fef2f2; }
  tr.firing td:first-child { box-shadow: inset 4px 0 0 #b91c1c; font-weight: 600; }
  .toolbar { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin-bottom: .5rem; }
  .errors { margin: 0; padding-left: 1.1rem; }
  .error-text { color: #991b1b; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; }
  form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
  input { font: inherit; padding: .2rem .4rem; border: 1px solid #374151; border-radius: 4px; }
  @media (max-width: 900px) { main { grid-template-columns: 1fr; } }
</style>
</head>
<body>
<header>
  <h1>Emulator dashboard</h1>
  <p>Uptime <strong id="uptime">—</strong></p>
  <p><span id="live" class="badge neutral" data-state="connecting">connecting…</span></p>
  <p id="status" role="status" aria-live="polite"></p>
</header>
<main>
  <section id="functions" class="wide" aria-labelledby="functions-h">
    <h2 id="functions-h">Functions</h2>
    <div class="scroll"><table id="function-table">
      <thead><tr><th scope="col">Function</th><th scope="col" class="num">Live</th><th scope="col" class="num">Idle</th>
        <th scope="col" class="num">Busy</th><th scope="col" class="num">Queued</th><th scope="col" class="num">Invocations</th>
        <th scope="col" class="num">Errors</th><th scope="col" class="num">Cold starts</th><th scope="col" class="num">Throttles</th>
        <th scope="col" class="num">Timeouts</th><th scope="col" class="num">Crashes</th></tr></thead>
      <tbody></tbody></table></div>
    <h3>Latency by route</h3>
    <div class="scroll"><table id="routes">
      <caption id="routes-caption">Milliseconds over the recent window</caption>
      <thead><tr><th scope="col">Route</th><th scope="col">Function</th><th scope="col" class="num">Count</th>
        <th scope="col" class="num">Errors</th><th scope="col" class="num">p50 ms</th><th scope="col" class="num">p95 ms</th>
        <th scope="col" class="num">p99 ms</th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="recent" class="wide" aria-labelledby="recent-h">
    <h2 id="recent-h">Recent invocations</h2>
    <div class="scroll"><table id="recent-table">
      <caption>Newest first; open a row for its log lines</caption>
      <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Function</th><th scope="col">Route</th><th scope="col" class="num">Status</th>
        <th scope="col">Outcome</th><th scope="col" class="num">Duration ms</th><th scope="col">Start</th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="schedules" class="wide" aria-labelledby="schedules-h">
    <h2 id="schedules-h">Schedules</h2>
    <div class="toolbar">
      <span>Virtual clock: <strong id="clock" class="mono">—</strong></span>
      <button type="button" id="clock-advance">Advance 60 s</button>
    </div>
    <div class="scroll"><table id="schedule-table">
      <thead><tr><th scope="col">Rule</th><th scope="col">Function</th><th scope="col">Expression</th><th scope="col">Next (UTC)</th>
        <th scope="col" class="num">Fired</th><th scope="col" class="num">Skipped</th><th scope="col">State</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="async" aria-labelledby="async-h">
    <h2 id="async-h">Async invocations</h2>
    <p>Pending: <strong id="async-pending">—</strong></p>
    <h3>Queued</h3>
    <div class="scroll"><table id="queued">
      <thead><tr><th scope="col">Id</th><th scope="col">Function</th><th scope="col">Source</th><th scope="col" class="num">Attempts</th><th scope="col">Enqueued</th></tr></thead>
      <tbody></tbody></table></div>
    <h3>Dead letters</h3>
    <div class="scroll"><table id="dead-letters">
      <thead><tr><th scope="col">Function</th><th scope="col">Source</th><th scope="col" class="num">Attempts</th><th scope="col">Errors</th><th scope="col"><span class="muted">Action</span></th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="alerts" aria-labelledby="alerts-h">
    <h2 id="alerts-h">Alerts</h2>
    <div class="scroll"><table id="alert-table">
      <thead><tr><th scope="col">Alert</th><th scope="col">State</th><th scope="col" class="num">Value</th><th scope="col" class="num">Threshold</th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="providers" aria-labelledby="providers-h">
    <h2 id="providers-h">Providers</h2>
    <div class="scroll"><table id="provider-table">
      <thead><tr><th scope="col">Kind</th><th scope="col">Provider</th><th scope="col">Model</th><th scope="col" class="num">Calls</th>
        <th scope="col" class="num">Failures</th><th scope="col">Last outcome</th><th scope="col">Breaker</th></tr></thead>
      <tbody></tbody></table></div>
  </section>

  <section id="router" aria-labelledby="router-h">
    <h2 id="router-h">Intent router</h2>
    <div id="router-body"><p class="muted">no data yet</p></div>
  </section>

  <section id="org" class="wide" aria-labelledby="org-h">
    <h2 id="org-h">Organisation data</h2>
    <form id="org-form">
      <label for="org-input">Organisation</label>
      <input id="org-input" name="org" autocomplete="off" spellcheck="false" placeholder="acme" required>
      <button type="submit" id="org-load">Load</button>
      <span id="org-note" class="muted">Reads through the API with a development token.</span>
    </form>
    <h3>Documents</h3>
    <p id="document-counts" class="muted">No organisation loaded.</p>
    <div class="scroll"><table id="documents">
      <thead><tr><th scope="col">Title</th><th scope="col">File</th><th scope="col">Status</th><th scope="col" class="num">Bytes</th>
        <th scope="col">Updated (UTC)</th><th scope="col"><span class="muted">Versions</span></th></tr></thead>
      <tbody></tbody></table></div>
    <h3>Jobs</h3>
    <p id="jobs-note" class="muted"></p>
    <div class="scroll"><table id="jobs">
      <thead><tr><th scope="col">Type</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col">Error</th>
        <th scope="col" class="num">Duration ms</th><th scope="col">Document</th><th scope="col">Created (UTC)</th></tr></thead>
      <tbody></tbody></table></div>
  </section>
</main>
<script>
'use strict';
const $ = (sel, root = document) => root.querySelector(sel);

// Builds an element. Server data only ever goes in as text nodes or attribute values,
// never as markup: log lines and error messages may contain anything.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
const td = (col, content, cls) => el('td', { 'data-col': col, class: cls }, content);
const num = (col, value) => td(col, value ?? '—', 'num');
const badge = (text, kind) => el('span', { class: 'badge ' + kind }, text);

// Formatting: all times shown in UTC so they match the server's logs.
const fmtTime = iso => (iso ? String(iso).slice(11, 19) : '—');
const fmtDateTime = iso => (iso ? String(iso).replace('T', ' ').slice(0, 19) : '—');
const fmtMs = x => (typeof x === 'number' ? x.toFixed(1) : '—');
const fmtNum = x => (typeof x !== 'number' ? '—' : Number.isInteger(x) ? String(x) : x.toFixed(2));
const shortId = id => (id ? String(id).slice(0, 8) : '—');
function fmtUptime(seconds) {
  if (!(seconds >= 0)) return '—';
  const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
  return (h ? h + ' h ' : '') + (h || m ? m + ' min ' : '') + (s % 60) + ' s';
}
const GOOD = new Set(['ok', 'ready', 'succeeded', 'closed', 'live']);
const WARN = new Set(['pending', 'queued', 'running', 'half_open', 'half-open', 'no_data', 'throttled']);
const kindOf = word => (GOOD.has(word) ? 'good' : WARN.has(word) ? 'warn' : word ? 'bad' : 'neutral');

// Replaces a tbody's rows, keeping keyboard focus on the same logical control: the page
// re-renders every second and must not throw a keyboard user back to the top.
function fillBody(table, rows, emptyText) {
  const body = table.tBodies[0];
  const active = document.activeElement;
  const key = active && body.contains(active) ? active.getAttribute('data-focus-key') : null;
  body.replaceChildren(...rows);
  if (!rows.length) {
    body.append(el('tr', {}, el('td', { class: 'empty', colspan: table.tHead.rows[0].cells.length }, emptyText)));
  }
  if (key) {
    const again = [...body.querySelectorAll('[data-focus-key]')].find(e => e.getAttribute('data-focus-key') === key);
    if (again) again.focus();
  }
}

// Re-render a panel only when its data changed, so open rows and selections stay put.
const lastSeen = {};
function changed(name, value) {
  const s = JSON.stringify(value);
  if (lastSeen[name] === s) return false;
  lastSeen[name] = s;
  return true;
}

function say(message, isError) {
  const s = $('#status');
  s.textContent = new Date().toISOString().slice(11, 19) + ' ' + message;
  s.className = isError ? 'error' : '';
}

// fetch + JSON, never throwing on an HTTP error status: callers report the status themselves.
async function call(method, url, body, headers) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10000);
  try {
    const init = { method, headers: Object.assign({}, headers), cache: 'no-store', signal: ctl.signal };
    if (body !== undefined) { init.body = JSON.stringify(body); init.headers['Content-Type'] = 'application/json'; }
    const r = await fetch(url, init);
    const text = await r.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { /* not JSON: keep the text */ }
    const message = (data && data.error && (data.error.message || data.error.code)) || text.slice(0, 200);
    return { ok: r.ok, status: r.status, data, message };
  } finally {
    clearTimeout(timer);
  }
}

// ---- Emulator state -------------------------------------------------------------------

function setLive(ok, why) {
  const live = $('#live');
  live.setAttribute('data-state', ok ? 'live' : 'disconnected');
  live.className = 'badge ' + (ok ? 'good' : 'bad');
  live.textContent = ok ? '● live' : '● disconnected';
  live.title = ok ? 'Polling every second' : 'Polling failed: ' + (why || 'no answer') + '; retrying';
}

function renderFunctions(list) {
  if (!changed('functions', list)) return;
  fillBody($('#function-table'), (list || []).map(f => el('tr', { 'data-function': f.function },
    el('th', { scope: 'row', 'data-col': 'function' }, f.function),
    num('live', f.live), num('idle', f.idle), num('busy', f.busy), num('queued', f.queued),
    num('invocations', f.invocations), num('errors', f.errors), num('cold_starts', f.cold_starts),
    num('throttles', f.throttles), num('timeouts', f.timeouts), num('crashes', f.crashes))), 'No functions.');
}

function renderRoutes(list, windowMinutes) {
  $('#routes-caption').textContent = 'Milliseconds over the last ' + (windowMinutes ?? '?') + ' minutes';
  if (!changed('routes', list)) return;
  fillBody($('#routes'), (list || []).map(r => el('tr', { 'data-route': r.route },
    el('th', { scope: 'row', 'data-col': 'route', class: 'mono' }, r.route),
    td('function', r.function), num('count', r.count), num('errors', r.errors),
    num('p50', fmtMs(r.p50_ms)), num('p95', fmtMs(r.p95_ms)), num('p99', fmtMs(r.p99_ms)))),
  'No invocations in the window.');
}

// Request ids whose log rows are open; kept across re-renders.
const openLogs = new Set();
function renderRecent(list) {
  if (!changed('recent', list)) return;
  const rows = [];
  for (const inv of list || []) {
    const id = inv.request_id, open = openLogs.has(id), logsId = 'logs-' + id;
    const toggle = el('button', {
      type: 'button', class: 'row-toggle', 'aria-expanded': String(open), 'aria-controls': logsId,
      'data-focus-key': 'recent:' + id, 'aria-label': fmtTime(inv.at) + ' ' + (inv.route || inv.function) + ' logs',
    }, el('span', { class: 'arrow', 'aria-hidden': 'true' }, '▸'), fmtTime(inv.at));
    const logs = el('tr', { id: logsId, class: 'logs', 'data-logs-for': id, hidden: !open },
      el('td', { colspan: 7 }, el('pre', {}, (inv.logs || []).join('\n') || '(no log lines)')));
    toggle.addEventListener('click', () => {
      const now = !openLogs.has(id);
      if (now) openLogs.add(id); else openLogs.delete(id);
      toggle.setAttribute('aria-expanded', String(now));
      logs.hidden = !now;
    });
    const cold = inv.cold
      ? badge(inv.init_ms != null ? 'cold (init ' + fmtMs(inv.init_ms) + ' ms)' : 'cold', 'warn')
      : badge('warm', 'neutral');
    // A click anywhere on the row opens it too; the button is what the keyboard reaches.
    rows.push(el('tr', { 'data-request-id': id, class: 'clickable', onclick: e => { if (!e.target.closest('button')) toggle.click(); } },
      el('td', { 'data-col': 'time', title: inv.at || '' }, toggle), td('function', inv.function),
      td('route', inv.route, 'mono'), num('status', inv.status), td('outcome', badge(inv.outcome, kindOf(inv.outcome))),
      num('duration', fmtMs(inv.duration_ms)), td('start', cold)));
    rows.push(logs);
  }
  fillBody($('#recent-table'), rows, 'No invocations yet.');
}

function renderSchedules(list, clock) {
  $('#clock').textContent = clock ? fmtDateTime(clock) + ' UTC' : 'schedules off';
  $('#clock-advance').disabled = !clock;
  if (!changed('schedules', list)) return;
  fillBody($('#schedule-table'), (list || []).map(s => el('tr', { 'data-schedule': s.name },
    el('th', { scope: 'row', 'data-col': 'name' }, s.name), td('function', s.function),
    td('expression', [el('code', {}, s.expression), s.timezone ? el('small', {}, ' ' + s.timezone) : null]),
    td('next', fmtDateTime(s.next), 'mono'), num('fired', s.fired), num('skipped', s.skipped),
    td('state', [badge(s.enabled ? 'enabled' : 'disabled', s.enabled ? 'good' : 'neutral'), s.running ? [' ', badge('running', 'warn')] : null]),
    td('action', el('button', { type: 'button', 'data-focus-key': 'trigger:' + s.name, 'aria-label': 'Trigger ' + s.name,
      onclick: e => trigger(s.name, e.currentTarget) }, 'Trigger')))), 'No schedules (started with --no-schedules?).');
}

function renderAsync(a) {
  a = a || {};
  $('#async-pending').textContent = a.pending ?? '—';
  if (changed('queued', a.queued)) {
    fillBody($('#queued'), (a.queued || []).map(q => el('tr', { 'data-id': q.id },
      td('id', shortId(q.id), 'mono'), td('function', q.function), td('source', q.source),
      num('attempts', q.attempts), td('enqueued', fmtTime(q.enqueued_at)))), 'Nothing queued.');
  }
  if (changed('dead', a.dead_letters)) {
    fillBody($('#dead-letters'), (a.dead_letters || []).map(d => el('tr', { 'data-id': d.id },
      td('function', [d.function, el('br'), el('small', { class: 'mono' }, shortId(d.id) + ' · ' + fmtTime(d.enqueued_at))]),
      td('source', d.source), num('attempts', d.attempts),
      td('errors', el('ul', { class: 'errors' }, (d.errors || []).map(x =>
        el('li', {}, el('small', {}, fmtTime(x.at) + ' '), el('span', { class: 'error-text' }, x.error))))),
      td('action', el('button', { type: 'button', 'data-focus-key': 'replay:' + d.id, 'aria-label': 'Replay ' + d.function + ' ' + shortId(d.id),
        onclick: e => replay(d.id, e.currentTarget) }, 'Replay')))), 'No dead letters.');
  }
}

function renderAlerts(list) {
  if (!changed('alerts', list)) return;
  fillBody($('#alert-table'), (list || []).map(a => {
    const word = a.state === 'no_data' ? 'no data' : a.state;
    // Firing is said in words and by shape (bold, a bar, an icon), not only by colour.
    const state = a.state === 'firing'
      ? badge([el('span', { 'aria-hidden': 'true' }, '▲ '), 'firing'], 'bad') : badge(word, kindOf(a.state));
    const unit = a.unit ? ' ' + a.unit : '';
    return el('tr', { 'data-alert': a.name, 'data-state': a.state, class: a.state === 'firing' ? 'firing' : null },
      el('th', { scope: 'row', 'data-col': 'name' }, a.name, a.description ? [el('br'), el('small', {}, a.description)] : null),
      td('state', state), num('value', a.value == null ? '—' : fmtNum(a.value) + unit),
      num('threshold', (a.comparison || '') + ' ' + fmtNum(a.threshold) + unit));
  }), 'No alerts defined.');
}

function renderProviders(list) {
  if (!changed('providers', list)) return;
  fillBody($('#provider-table'), (list || []).map(p => el('tr', { 'data-provider': p.kind + ':' + p.name },
    td('kind', p.kind), el('th', { scope: 'row', 'data-col': 'name' }, p.name), td('model', p.model, 'mono'),
    num('calls', p.calls), num('failures', p.failures),
    td('last', p.last_outcome ? [badge(p.last_outcome, kindOf(p.last_outcome)), ' ', el('small', {}, fmtTime(p.last_at))] : '—'),
    td('breaker', p.breaker ? badge(p.breaker, kindOf(p.breaker)) : '—'))), 'No provider calls yet.');
}

function renderRouter(r) {
  if (!changed('router', r)) return;
  const body = $('#router-body');
  if (!r) { body.replaceChildren(el('p', { class: 'muted' }, 'no data yet')); return; }
  const facts = [['Catalog version', el('code', {}, r.catalog_version ?? '—')], ['Actions', r.actions ?? '—'], ['Seeds', r.seeds ?? '—'],
    ['Cache hit rate', typeof r.cache_hit_rate === 'number' ? (r.cache_hit_rate * 100).toFixed(1) + ' %' : '—'],
    ['Last reload', fmtDateTime(r.last_reload) + (r.last_reload ? ' UTC' : '')], ['Function', r.function ?? '—']];
  body.replaceChildren(el('dl', { id: 'router-facts' }, facts.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])));
}

function render(s) {
  $('#uptime').textContent = fmtUptime((Date.parse(s.now) - Date.parse(s.started_at)) / 1000);
  renderFunctions(s.functions);
  renderRoutes(s.routes, s.window_minutes);
  renderRecent(s.recent);
  renderSchedules(s.schedules, s.clock);
  renderAsync(s.async);
  renderAlerts(s.alerts);
  renderProviders(s.providers);
  renderRouter(s.router);
}

// One poll at a time, chained with setTimeout: a slow answer never piles requests up, and
// a poll asked for while one is in flight (after an action) runs right after it.
let pollTimer = null, polling = false, pollAgain = false;
async function poll() {
  if (polling) { pollAgain = true; return; }
  clearTimeout(pollTimer);
  polling = true;
  try {
    const r = await call('GET', '/__emulator/state');
    if (!r.ok || !r.data) throw new Error('HTTP ' + r.status);
    setLive(true);
    render(r.data);
    if (orgState.name && orgNeedsRefresh(r.data)) refreshOrg();
  } catch (e) {
    setLive(false, e.name === 'AbortError' ? 'timed out' : e.message);
  } finally {
    polling = false;
  }
  pollTimer = setTimeout(poll, pollAgain ? 0 : 1000);
  pollAgain = false;
}

// ---- Actions --------------------------------------------------------------------------

async function act(button, run) {
  if (button) button.disabled = true;
  try { await run(); } catch (e) { say('Request failed: ' + e.message, true); } finally {
    if (button && button.isConnected) button.disabled = false;
    poll();
  }
}

const trigger = (name, button) => act(button, async () => {
  const r = await call('POST', '/__emulator/schedules/' + encodeURIComponent(name) + '/trigger');
  if (r.status === 202) say('Triggered ' + name + ': 202 Accepted, request ' + (r.data && r.data.requestId));
  else say('Trigger ' + name + ' failed: ' + r.status + ' ' + r.message, true);
});

const replay = (id, button) => act(button, async () => {
  const r = await call('POST', '/__emulator/dead-letters/' + encodeURIComponent(id) + '/replay');
  if (r.status === 202) {
    say('Replayed dead letter ' + shortId(id) + ': 202 Accepted, queued as ' + shortId(r.data && r.data.id));
    const row = [...$('#dead-letters').tBodies[0].rows].find(tr => tr.getAttribute('data-id') === id);
    if (row) row.remove();  // gone from the list now; the next poll confirms
    delete lastSeen.dead;
  } else say('Replay ' + shortId(id) + ' failed: ' + r.status + ' ' + r.message, true);
});

$('#clock-advance').addEventListener('click', e => act(e.currentTarget, async () => {
  const r = await call('POST', '/__emulator/clock', { advance: 60 });
  if (r.ok && r.data) { $('#clock').textContent = fmtDateTime(r.data.now) + ' UTC'; say('Clock advanced 60 s to ' + fmtDateTime(r.data.now) + ' UTC'); }
  else say('Advancing the clock failed: ' + r.status + ' ' + r.message, true);
}));

// ---- Organisation data ------------------------------------------------------------------

const orgState = { name: null, token: null, busy: false, docs: [], docsData: null, openVersions: new Map() };

// Each org refresh is two real invocations of UploadFunction: refreshing on every poll would
// fill "Recent invocations" with the dashboard's own reads. So a poll refreshes the org only
// when the invocation totals grew by more than the page's own calls, and at least every 10 s.
const activity = { total: null, ownUncounted: 0, lastRefresh: 0 };
function orgNeedsRefresh(s) {
  const total = (s.functions || []).reduce((n, f) => n + (f.invocations || 0), 0);
  const delta = activity.total === null ? 0 : total - activity.total;
  activity.total = total;
  const others = delta - activity.ownUncounted;
  activity.ownUncounted = Math.max(0, activity.ownUncounted - delta);  // our calls not yet seen stay owed
  return others > 0 || Date.now() - activity.lastRefresh > 10000;
}

async function mintToken() {
  const r = await call('GET', '/__emulator/token?org=' + encodeURIComponent(orgState.name));
  if (!r.ok || !r.data || !r.data.token) throw new Error('token: ' + r.status + ' ' + r.message);
  orgState.token = r.data.token;
}

// An API read with the org's token; one fresh token and a retry on 401 (tokens expire).
async function api(path) {
  if (!orgState.token) await mintToken();
  activity.ownUncounted++;
  let r = await call('GET', path, undefined, { Authorization: 'Bearer ' + orgState.token });
  if (r.status === 401) {  // the authorizer's answer: no invocation, so nothing more to count
    await mintToken();
    r = await call('GET', path, undefined, { Authorization: 'Bearer ' + orgState.token });
  }
  if (!r.ok) throw new Error(r.status + ' ' + r.message);
  return r.data;
}

function loadOrg(name) {
  name = (name || '').trim();
  if (!name) { say('Enter an organisation id first.', true); return; }
  Object.assign(orgState, { name, token: null, docs: [], docsData: null, openVersions: new Map() });
  delete lastSeen.docs; delete lastSeen.jobs;
  $('#org-input').value = name;
  // replaceState: the hash survives a reload without piling up history entries.
  history.replaceState(null, '', '#org=' + encodeURIComponent(name));
  $('#document-counts').textContent = 'Loading ' + name + '…';
  refreshOrg(true);
}

async function refreshOrg(announce) {
  if (!orgState.name || orgState.busy) return;
  orgState.busy = true;
  activity.lastRefresh = Date.now();
  const name = orgState.name;
  try {
    // Independent: a failing jobs list must not hide the documents.
    const [docs, jobs] = await Promise.allSettled([api('/v1/documents?limit=50&counts=true'), api('/v1/jobs?limit=50')]);
    if (name !== orgState.name) return;  // the user switched org meanwhile
    const note = (sel, text) => { $(sel).textContent = text; $(sel).className = text.startsWith('Could not') ? 'error-text' : 'muted'; };
    if (docs.status === 'fulfilled') { $('#document-counts').className = 'muted'; renderDocuments(docs.value); }
    else note('#document-counts', 'Could not load documents: ' + docs.reason.message);
    if (jobs.status === 'fulfilled') { note('#jobs-note', ''); renderJobs(jobs.value); }
    else note('#jobs-note', 'Could not load jobs: ' + jobs.reason.message);
    if (announce) {
      const bad = [docs, jobs].find(x => x.status === 'rejected');
      if (bad) say('Organisation ' + name + ': ' + bad.reason.message, true);
      else say('Loaded organisation ' + name + '.');
    }
  } finally {
    orgState.busy = false;
  }
}

function renderDocuments(data) {
  const docs = (data && data.documents) || [];
  orgState.docs = docs;
  orgState.docsData = data;
  const counts = (data && data.counts) || {};
  const countsEl = $('#document-counts');
  countsEl.replaceChildren(...['pending', 'ready', 'failed', 'deleted'].flatMap((k, i) =>
    [i ? ' · ' : '', el('span', { 'data-count': k }, k + ' ' + (counts[k] ?? 0))]), data && data.next_cursor ? ' (showing the newest 50)' : '');
  if (!changed('docs', [docs, [...orgState.openVersions]])) return;
  const rows = [];
  for (const d of docs) {
    const open = orgState.openVersions.has(d.id), vid = 'versions-' + d.id;
    rows.push(el('tr', { 'data-id': d.id },
      el('th', { scope: 'row', 'data-col': 'title' }, d.title), td('filename', d.filename, 'mono'),
      td('status', badge(d.status, kindOf(d.status))), num('bytes', d.bytes), td('updated', fmtDateTime(d.updated_at), 'mono'),
      td('versions', el('button', { type: 'button', 'aria-expanded': String(open), 'aria-controls': vid, 'data-focus-key': 'versions:' + d.id,
        'aria-label': (open ? 'Hide' : 'Show') + ' versions of ' + d.title, onclick: () => toggleVersions(d.id) }, open ? 'Hide' : 'Show'))));
    if (open) rows.push(el('tr', { id: vid, 'data-versions-for': d.id }, el('td', { colspan: 6 }, versionList(orgState.openVersions.get(d.id)))));
  }
  fillBody($('#documents'), rows, 'No documents.');
}

function versionList(v) {
  if (v === 'loading') return el('span', { class: 'muted' }, 'Loading versions…');
  if (typeof v === 'string') return el('span', { class: 'error-text' }, v);
  if (!v.length) return el('span', { class: 'muted' }, 'No versions yet.');
  return el('ul', { class: 'errors' }, v.map(x => el('li', {}, el('code', {}, shortId(x.id)), ' ',
    badge(x.state || x.status, kindOf(x.state || x.status)), ' ', x.embed_model || '', x.chunk_count != null ? ' · ' + x.chunk_count + ' chunks' : '',
    x.error ? [' · ', el('span', { class: 'error-text' }, x.error)] : null)));
}

async function toggleVersions(id) {
  const open = orgState.openVersions;
  if (open.has(id)) { open.delete(id); renderDocuments(orgState.docsData); return; }
  open.set(id, 'loading');
  renderDocuments(orgState.docsData);
  try { open.set(id, (await api('/v1/documents/' + encodeURIComponent(id) + '/versions')).versions || []); }
  catch (e) { open.set(id, 'Could not load versions: ' + e.message); }
  if (open.has(id)) renderDocuments(orgState.docsData);
}

function renderJobs(data) {
  const jobs = (data && data.jobs) || [];
  if (!changed('jobs', [jobs, orgState.docs.map(d => d.id)])) return;
  const titles = new Map(orgState.docs.map(d => [d.id, d.title]));
  fillBody($('#jobs'), jobs.map(j => el('tr', { 'data-id': j.id },
    td('type', j.type), td('status', badge(j.status, kindOf(j.status))),
    num('attempts', (j.attempts ?? '?') + '/' + (j.max_attempts ?? '?')),
    td('error', j.error ? el('span', { class: 'error-text' }, j.error) : '—'), num('duration', j.duration_ms ?? '—'),
    td('document', titles.get(j.document_id) || el('code', {}, shortId(j.document_id))),
    td('created', fmtDateTime(j.created_at), 'mono'))), 'No jobs.');
}

$('#org-form').addEventListener('submit', e => { e.preventDefault(); loadOrg($('#org-input').value); });

function orgFromHash() {
  const m = /^#org=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}
window.addEventListener('hashchange', () => { const o = orgFromHash(); if (o && o !== orgState.name) loadOrg(o); });

const initialOrg = orgFromHash();
if (initialOrg) loadOrg(initialOrg);
poll();
</script>
</body>
</html>
"""##
}
