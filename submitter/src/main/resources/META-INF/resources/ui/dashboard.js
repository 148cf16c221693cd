// Bunshin dashboard: follows GET /v1/cluster/events (server-sent events) and draws workers, the stage plan, the queue,
// recent jobs, batches and throughput; submits a prompt through POST /v1/jobs and streams its text from
// GET /v1/jobs/{id}/events. Plain JavaScript, no build step, nothing loaded from elsewhere.
//
// EventSource cannot send an Authorization header, so streams are read with fetch() and a ReadableStream. When the
// server answers 401 the page asks for an API key and keeps it in sessionStorage (this tab only).
'use strict';

const KEY_STORE = 'bunshin.apiKey';
const COLORS = ['#2f6fde', '#e67e22', '#16a085', '#8e44ad', '#c0392b', '#2c3e50', '#d4a017', '#27ae60'];
const $ = (id) => document.getElementById(id);

class Unauthorized extends Error {}

function headers(extra) {
  const h = Object.assign({}, extra);
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) h.Authorization = 'Bearer ' + key;
  return h;
}

/** An element with attributes and children (strings become text: nothing from the server is parsed as HTML). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k === 'style') e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c ?? ''));
  return e;
}

function svg(tag, attrs, text) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The error message of a JSON error body (OpenAI's shape), or the HTTP status. */
async function problem(response) {
  try {
    const body = await response.json();
    return (body.error && (body.error.message || body.error)) || ('HTTP ' + response.status);
  } catch (e) {
    return 'HTTP ' + response.status;
  }
}

/**
 * Reads a text/event-stream from fetch(): calls onEvent(eventName, data, id) for each event. Resolves when the
 * server ends the stream; rejects with Unauthorized on 401.
 */
async function readSse(url, onEvent, init) {
  const response = await fetch(url, Object.assign({ cache: 'no-store' }, init,
    { headers: headers(Object.assign({ Accept: 'text/event-stream' }, init && init.headers)) }));
  if (response.status === 401) throw new Unauthorized(await problem(response));
  if (!response.ok) throw new Error(await problem(response));
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message', id = null;
      const data = [];
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue; // comments are keep-alives
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = val;
        else if (field === 'data') data.push(val);
        else if (field === 'id') id = val;
      }
      if (data.length) onEvent(event, data.join('\n'), id);
    }
  }
}

// ---- API key ----------------------------------------------------------------------------------------------------

let keyWaiters = [];

function askForKey(message) {
  $('key-form').hidden = false;
  $('key-error').textContent = sessionStorage.getItem(KEY_STORE) ? message : '';
  $('key').focus();
  setConnection('error', 'API key needed');
  return new Promise((resolve) => keyWaiters.push(resolve));
}

$('key-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem(KEY_STORE, $('key').value.trim());
  $('key').value = '';
  $('key-form').hidden = true;
  $('change-key').hidden = false;
  const waiting = keyWaiters;
  keyWaiters = [];
  waiting.forEach((resolve) => resolve());
});

$('change-key').addEventListener('click', () => askForKey(''));

// ---- the cluster stream -----------------------------------------------------------------------------------------

function setConnection(state, text) {
  const c = $('connection');
  c.dataset.state = state;
  c.textContent = text;
}

async function follow() {
  for (;;) {
    try {
      setConnection('connecting', 'connecting');
      await readSse('/v1/cluster/events', (event, data) => {
        if (event !== 'cluster') return;
        setConnection('live', 'live');
        render(JSON.parse(data));
      });
      setConnection('error', 'disconnected');
    } catch (e) {
      if (e instanceof Unauthorized) {
        await askForKey(e.message);
        continue;
      }
      setConnection('error', 'reconnecting: ' + e.message);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

function render(c) {
  document.body.dataset.rendered = String(Date.now());
  $('model').textContent = c.model.id + ' · ' + c.model.architecture + ' · ' + c.model.layers + ' layers';
  const colors = {};
  (c.plan ? c.plan.stages : []).forEach((s, i) => { colors[s.worker_id] = COLORS[i % COLORS.length]; });
  renderWorkers(c.workers, colors);
  renderPlan(c.plan, colors);
  renderThroughput(c.throughput);
  renderQueue(c.queue, c.jobs);
  renderBatches(c.batches);
}

function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + units[i];
}

function age(ms) {
  return ms < 10000 ? (ms / 1000).toFixed(1) + ' s' : ms < 120000 ? Math.round(ms / 1000) + ' s' : Math.round(ms / 60000) + ' min';
}

function renderWorkers(workers, colors) {
  const body = $('workers').tBodies[0];
  body.replaceChildren(...workers.map((w) => el('tr', { 'data-worker-id': w.id },
    el('td', {}, el('span', { style: 'color:' + (colors[w.id] || 'inherit') }, '■ '), w.id),
    el('td', {}, w.host),
    el('td', { class: 'status-' + w.status, title: w.load_error }, w.status + (w.load_error ? ' (load error)' : '')),
    el('td', {}, w.backend),
    el('td', { class: 'device' }, w.device || '–'),
    el('td', {}, bytes(w.stage_weights_bytes) + ' / ' + bytes(w.memory_bytes)),
    el('td', {}, w.speed_gflops.toFixed(1) + ' GFLOP/s · ' + w.threads + ' thr'),
    el('td', {}, age(w.heartbeat_age_ms)),
    el('td', {}, w.layers ? 'stage ' + w.stage + ': [' + w.layers[0] + ', ' + w.layers[1] + ')' : '–'))));
  if (!workers.length) body.append(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No workers registered.')));
}

function renderPlan(plan, colors) {
  const bar = $('plan-bar');
  if (!plan) {
    $('plan-epoch').textContent = 'none yet';
    bar.replaceChildren(el('div', { class: 'segment', style: 'flex:1;background:#aab2c3' }, 'waiting for workers'));
    $('plan-scale').replaceChildren();
    return;
  }
  $('plan-epoch').textContent = 'epoch ' + plan.epoch + ' · context ' + plan.context_length + ' · ' + plan.layers + ' layers';
  bar.replaceChildren(...plan.stages.map((s) => el('div', {
    class: 'segment', 'data-worker-id': s.worker_id, 'data-layers': s.layer_start + '-' + s.layer_end,
    title: 'stage ' + s.stage + ' on ' + s.worker_id + ': layers [' + s.layer_start + ', ' + s.layer_end + ') · ' + s.topic,
    style: 'flex:' + (s.layer_end - s.layer_start) + ';background:' + colors[s.worker_id],
  }, s.worker_id + ' [' + s.layer_start + ', ' + s.layer_end + ')')));
  $('plan-scale').replaceChildren(el('span', {}, 'layer 0'), el('span', {}, 'layer ' + plan.layers));
}

function renderThroughput(t) {
  $('rate').textContent = t.tokens_per_second.toFixed(1) + ' tokens/s (10 s) · ' + t.tokens_total + ' tokens';
  const chart = $('chart');
  const W = 640, H = 140, top = 12, bottom = 18;
  const now = t.series.length ? t.series[t.series.length - 1][0] : Date.now();
  const from = now - t.window_s * 1000;
  const max = Math.max(1, ...t.series.map((p) => p[1])) * 1.1;
  const x = (ms) => ((ms - from) / (now - from)) * W;
  const y = (v) => H - bottom - (v / max) * (H - top - bottom);
  const parts = [svg('line', { class: 'grid', x1: 0, x2: W, y1: y(0), y2: y(0) }),
    svg('line', { class: 'grid', x1: 0, x2: W, y1: y(max / 1.1), y2: y(max / 1.1) }),
    svg('text', { x: 4, y: y(max / 1.1) - 2 }, (max / 1.1).toFixed(1) + ' tok/s'),
    svg('text', { x: 4, y: H - 4 }, '−' + Math.round(t.window_s / 60) + ' min'),
    svg('text', { x: W - 24, y: H - 4 }, 'now')];
  if (t.series.length > 1) {
    const pts = t.series.map((p) => x(p[0]).toFixed(1) + ',' + y(p[1]).toFixed(1));
    const first = x(t.series[0][0]).toFixed(1);
    parts.push(svg('polygon', { class: 'area', points: first + ',' + y(0) + ' ' + pts.join(' ') + ' ' + W + ',' + y(0) }));
    parts.push(svg('polyline', { class: 'line', points: pts.join(' ') }));
  }
  chart.replaceChildren(...parts);
}

function renderQueue(queue, jobs) {
  const count = (label, n, id, title) => el('div', { id, title }, el('b', {}, n), el('span', { class: 'muted' }, label));
  $('queue').replaceChildren(count('queued', queue.queued, 'queue-queued', 'all tenants'),
    count('running', queue.running, 'queue-running', 'all tenants'),
    ...['completed', 'failed', 'cancelled'].map((s) => count(s, jobs.by_status[s], null,
      'among your newest ' + jobs.counted + ' jobs')));
  $('jobs').tBodies[0].replaceChildren(...jobs.recent.map((j) => el('tr', { 'data-job-id': j.id },
    el('td', {}, j.id + (j.batch_id ? ' (batch)' : '')),
    el('td', {}, j.kind),
    el('td', { class: 'status-' + j.status }, j.status + (j.finish_reason ? ' · ' + j.finish_reason : '')),
    el('td', {}, j.token_count),
    el('td', {}, j.tokens_per_second === null ? '–' : j.tokens_per_second.toFixed(1)),
    el('td', {}, new Date(j.created_at).toLocaleTimeString()))));
}

function renderBatches(batches) {
  $('no-batches').hidden = batches.length > 0;
  $('batches').tBodies[0].replaceChildren(...batches.map((b) => {
    const pct = (n) => (b.total ? (100 * n) / b.total : 0) + '%';
    return el('tr', { 'data-batch-id': b.id },
      el('td', {}, b.id),
      el('td', { class: 'status-' + b.status }, b.status),
      el('td', {}, el('div', { class: 'progress' }, el('div', { class: 'done', style: 'width:' + pct(b.completed) }),
        el('div', { class: 'failed', style: 'width:' + pct(b.failed) }))),
      el('td', {}, b.completed + ' / ' + b.failed + ' / ' + b.total));
  }));
}

// ---- a prompt, streamed -----------------------------------------------------------------------------------------

$('job-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const output = $('job-output');
  const status = $('job-status');
  output.textContent = '';
  output.dataset.state = 'submitting';
  output.dataset.updates = '0';
  $('submit').disabled = true;
  try {
    const body = JSON.stringify({ prompt: $('prompt').value, max_tokens: Number($('max-tokens').value) || 128 });
    let response;
    for (;;) {
      response = await fetch('/v1/jobs', { method: 'POST', headers: headers({ 'Content-Type': 'application/json' }), body });
      if (response.status !== 401) break;
      await askForKey(await problem(response));
    }
    if (!response.ok) throw new Error(await problem(response));
    const job = await response.json();
    output.dataset.jobId = job.id;
    output.dataset.state = 'waiting';
    status.textContent = 'job ' + job.id + ' queued';
    let last = -1;
    // A dropped connection resumes after the last position seen (Last-Event-ID), as the jobs API allows.
    for (let attempt = 0; output.dataset.state !== 'done' && attempt < 5; attempt++) {
      await readSse('/v1/jobs/' + job.id + '/events', (event, data, id) => {
        const d = JSON.parse(data);
        if (event === 'done') {
          output.dataset.state = 'done';
          status.textContent = 'job ' + job.id + ' ' + d.status + (d.finish_reason ? ' (' + d.finish_reason + ')' : '')
            + ' · ' + d.usage.completion_tokens + ' tokens' + (d.error ? ' · ' + d.error : '');
          return;
        }
        if (id !== null) last = Number(id);
        output.dataset.state = 'streaming';
        output.dataset.updates = String(Number(output.dataset.updates) + 1);
        status.textContent = 'job ' + job.id + ' streaming…';
        output.append(d.text);
      }, last >= 0 ? { headers: { 'Last-Event-ID': String(last) } } : undefined);
    }
  } catch (err) {
    output.dataset.state = 'error';
    status.textContent = 'error: ' + err.message;
  } finally {
    $('submit').disabled = false;
  }
});

if (sessionStorage.getItem(KEY_STORE)) $('change-key').hidden = false;
follow();
