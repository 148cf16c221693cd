// The dashboard in a real headless browser (Debian's chromium, driven by playwright-core) against a running Bunshin:
// the page lists the workers and draws the plan, a prompt submitted from the page streams its text into the page,
// and a screenshot is saved. Run by DashboardIT; by hand:
//   BUNSHIN_URL=http://127.0.0.1:8080 SCREENSHOT=/tmp/dashboard.png node dashboard.mjs
// Environment: BUNSHIN_URL (required), WORKERS (how many the page must list, default 2), SCREENSHOT (a .png path),
// CHROMIUM (default /usr/bin/chromium), BUNSHIN_API_KEY (typed into the page when it asks for one).
import { chromium } from 'playwright-core';

const url = process.env.BUNSHIN_URL;
const workers = Number(process.env.WORKERS || 2);
const screenshot = process.env.SCREENSHOT;
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
const apiKey = process.env.BUNSHIN_API_KEY;
if (!url) {
  console.error('BUNSHIN_URL is not set');
  process.exit(2);
}

const checks = [];
function check(name, ok, detail) {
  checks.push({ name, ok });
  console.log((ok ? 'ok   ' : 'FAIL ') + name + (detail === undefined ? '' : ': ' + detail));
}

const browser = await chromium.launch({ executablePath, headless: true });
let failed = false;
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on('pageerror', (e) => check('no script error on the page', false, e.message));
  page.on('console', (m) => { if (m.type() === 'error') console.log('console error: ' + m.text()); });

  await page.goto(url + '/');
  check('/ leads to the dashboard', new URL(page.url()).pathname === '/ui/', page.url());

  if (apiKey) {
    await page.locator('#key-form').waitFor({ state: 'visible', timeout: 10000 });
    await page.fill('#key', apiKey);
    await page.click('#key-form button[type=submit]');
  }

  // The workers table and the plan bar, from the cluster stream.
  await page.waitForFunction((n) => document.querySelectorAll('#workers tbody tr[data-worker-id]').length >= n
      && document.querySelectorAll('#plan-bar .segment[data-worker-id]').length >= n, workers, { timeout: 30000 });
  const rows = await page.$$eval('#workers tbody tr[data-worker-id]', (trs) => trs.map((tr) => ({
    id: tr.dataset.workerId, status: tr.children[2].textContent, layers: tr.children[8].textContent })));
  check('the page lists ' + workers + ' workers', rows.length === workers, JSON.stringify(rows));
  check('every worker is live and holds layers', rows.every((r) => r.status.startsWith('live') && r.layers.startsWith('stage ')),
    JSON.stringify(rows));
  const segments = await page.$$eval('#plan-bar .segment', (s) => s.map((e) => ({
    worker: e.dataset.workerId, layers: e.dataset.layers, width: e.getBoundingClientRect().width })));
  check('the plan bar has one segment per worker, each visible',
    segments.length === workers && segments.every((s) => s.width > 10)
      && new Set(segments.map((s) => s.worker)).size === workers
      && segments.every((s) => rows.some((r) => r.id === s.worker)), JSON.stringify(segments));
  check('the plan starts at layer 0', segments.length > 0 && segments[0].layers.startsWith('0-'), JSON.stringify(segments));

  // A prompt from the page: its text must appear while the job is still streaming, then the job ends.
  await page.fill('#prompt', 'Once upon a time');
  await page.fill('#max-tokens', process.env.MAX_TOKENS || '200');
  await page.click('#submit');
  const seen = await page.waitForFunction(() => {
    const o = document.getElementById('job-output');
    return o.dataset.state === 'streaming' && o.textContent.length > 0 ? o.textContent : false;
  }, null, { timeout: 60000, polling: 10 });
  const partial = await seen.jsonValue();
  check('text appears while the job streams', partial.length > 0, JSON.stringify(partial));
  await page.waitForFunction(() => ['done', 'error'].includes(document.getElementById('job-output').dataset.state),
    null, { timeout: 60000 });
  const result = await page.$eval('#job-output', (o) => ({ state: o.dataset.state, text: o.textContent,
    updates: Number(o.dataset.updates), job: o.dataset.jobId }));
  const status = await page.textContent('#job-status');
  check('the job ends', result.state === 'done' && / completed /.test(status), status);
  check('the streamed text grew from what was first seen', result.text.startsWith(partial) && result.text.length > partial.length,
    result.updates + ' updates');
  console.log('JOB ' + result.job);
  console.log('TEXT ' + JSON.stringify(result.text));

  // The cluster stream shows the job and its tokens in the throughput chart.
  await page.waitForFunction((id) => {
    const row = document.querySelector('#jobs tr[data-job-id="' + id + '"]');
    return row && row.children[2].textContent.startsWith('completed') && document.querySelector('#chart polyline') !== null;
  }, result.job, { timeout: 15000 });
  check('the job is listed as completed and the throughput chart is drawn', true);

  if (screenshot) {
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log('screenshot ' + screenshot);
  }
} catch (e) {
  check('the dashboard run', false, e.stack || String(e));
} finally {
  await browser.close();
}
failed = checks.some((c) => !c.ok);
const passed = checks.filter((c) => c.ok).length;
console.log((failed ? 'FAIL' : 'PASS') + ' dashboard ' + (checks.length - passed) + ' failed');
process.exit(failed ? 1 : 0);
