// The status page in a real browser: Debian's chromium, headless, driven by playwright-core
// against a running tallyd (started by status-page.sh).
//
//   node status-page.mjs BASE_URL OUT_DIR
//
// Checks: no console errors, no request leaves the page's origin, the SVG has one point
// per RSS sample and one mark per run of /v1/history, the numbers shown are those of
// /v1/snapshot, /v1/views and /v1/history, and the page reads with JavaScript off.
// Writes OUT_DIR/status-page.png. Exit 0 on success, 1 with the reasons otherwise.
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node status-page.mjs BASE_URL OUT_DIR');
  process.exit(64);
}
const origin = new URL(base).origin;
const failures = [];
const check = (ok, what) => {
  if (ok) console.log(`ok: ${what}`);
  else {
    console.log(`FAIL: ${what}`);
    failures.push(what);
  }
};
const getJSON = async (path) => {
  const r = await fetch(origin + path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
};

const t0 = Date.now();
// launch() gives the browser a fresh temporary user-data-dir, removed on close
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const consoleErrors = [];
  const offsite = [];
  let requests = 0;
  // every request the page makes passes here; anything not from tallyd is refused
  await context.route('**/*', (route) => {
    const u = route.request().url();
    requests++;
    if (new URL(u).origin !== origin) {
      offsite.push(u);
      return route.abort();
    }
    return route.continue();
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));

  const resp = await page.goto(origin + '/', { waitUntil: 'load' });
  check(resp.status() === 200, `GET / answers 200 (got ${resp.status()})`);
  const headers = resp.headers();
  check((headers['content-type'] ?? '').startsWith('text/html'), 'GET / is text/html');
  check((headers['content-security-policy'] ?? '').includes("default-src 'none'"),
    'GET / carries a Content-Security-Policy');

  // The page is re-rendered at every sampling tick, so /v1/history, fetched after it,
  // may already hold newer samples; the ring only grows here (far below its capacity),
  // so the page's samples are exactly those up to the time it was rendered.
  const seen = await page.evaluate(() => {
    const svg = document.querySelector('#heartbeat svg');
    let points = 0;
    for (const pl of svg.querySelectorAll('polyline.rss')) points += pl.points.numberOfItems;
    const text = (sel) => document.querySelector(sel)?.textContent ?? null;
    const data = (sel, key) => document.querySelector(sel)?.dataset[key] ?? null;
    return {
      rendered: Number(document.querySelector('#rendered').dataset.usec),
      points,
      lines: svg.querySelectorAll('polyline.rss').length,
      marks: svg.querySelectorAll('.run').length,
      failedMarks: svg.querySelectorAll('.run.failed').length,
      svgSamples: Number(svg.dataset.samples),
      from: Number(svg.dataset.fromUsec),
      generation: text('#generation'),
      createdUsec: data('#created', 'usec'),
      host: text('#worker-host'),
      rowsRead: text('#worker-rows-read'),
      rowsRejected: text('#worker-rows-rejected'),
      durationMs: text('#worker-duration-ms'),
      peakKib: data('#worker-peak-rss', 'kib'),
      cpuMs: text('#worker-cpu-ms'),
      wallMs: text('#worker-wall-ms'),
      pinned: text('#pinned'),
      rssNowKib: Number(data('#rss-now', 'kib')),
      views: [...document.querySelectorAll('#views tbody tr')].map((tr) => ({
        name: tr.querySelector('.name').textContent,
        rows: tr.querySelector('.rows').textContent,
        json: tr.querySelector('a.json').getAttribute('href'),
        csv: tr.querySelector('a.csv').getAttribute('href'),
      })),
      runs: [...document.querySelectorAll('#runs tbody tr')].map((tr) => ({
        when: tr.dataset.whenUsec,
        failed: tr.classList.contains('failed'),
        kib: tr.querySelector('[data-kib]')?.dataset.kib ?? null,
      })),
    };
  });
  const history = await getJSON('/v1/history');
  check(history.rss.length < history.capacity.rss_samples, 'the RSS ring has not wrapped');
  check(history.rendered_usec >= seen.rendered, '/v1/history is as new as the page or newer');
  const samples = history.rss.filter(([t]) => t >= seen.from && t <= seen.rendered);
  const runs = history.runs.filter((r) => r.when_usec >= seen.from);
  check(samples.length > 10, `at least 10 RSS samples to draw (${samples.length})`);
  check(seen.points === samples.length,
    `one SVG point per RSS sample: ${seen.points} points in ${seen.lines} line(s), ` +
    `${samples.length} samples`);
  check(seen.svgSamples === samples.length, 'the SVG states the same sample count');
  check(seen.marks === runs.length && runs.length >= 4,
    `one SVG mark per run: ${seen.marks} marks, ${runs.length} runs`);
  check(seen.failedMarks === runs.filter((r) => r.outcome === 'failed').length &&
    seen.failedMarks >= 1, `failed runs are marked as failed (${seen.failedMarks})`);
  check(seen.rssNowKib === samples.at(-1)[1], `current RSS ${seen.rssNowKib} KiB is the newest sample`);
  check(seen.runs.length === history.runs.length,
    `runs table has every run (${seen.runs.length} of ${history.runs.length})`);
  const newestFirst = [...history.runs].reverse();
  check(seen.runs.every((r, i) => r.when === String(newestFirst[i].when_usec) &&
    r.failed === (newestFirst[i].outcome === 'failed') &&
    (r.kib === null ? newestFirst[i].peak_rss_kib === null
      : Number(r.kib) === newestFirst[i].peak_rss_kib)),
  'runs table rows match /v1/history (time, outcome, peak RSS)');

  const snap = await getJSON('/v1/snapshot');
  check(seen.generation === String(snap.generation), `generation ${seen.generation} = ${snap.generation}`);
  check(new Date(Number(seen.createdUsec) / 1000).toISOString().slice(0, 19) ===
    snap.created.slice(0, 19), `created ${snap.created}`);
  const w = snap.worker;
  check(seen.host === w.host && seen.rowsRead === String(w.rows_read) &&
    seen.rowsRejected === String(w.rows_rejected) &&
    seen.durationMs === String(w.duration_ms), 'worker host, rows and duration match /v1/snapshot');
  check(w.peak_rss_kib > 0 && seen.peakKib === String(w.peak_rss_kib) &&
    seen.cpuMs === String(w.cpu_ms) && seen.wallMs === String(w.wall_ms),
  `worker peak RSS ${w.peak_rss_kib} KiB, CPU and wall time match /v1/snapshot`);
  check(seen.pinned === 'not pinned', 'pinned state shown');
  const views = await getJSON('/v1/views');
  check(seen.views.length === views.views.length &&
    views.views.every((v, i) => seen.views[i].name === v.name &&
      seen.views[i].rows === String(v.rows) &&
      seen.views[i].json === `/v1/views/${encodeURIComponent(v.name)}` &&
      seen.views[i].csv === `/v1/views/${encodeURIComponent(v.name)}?format=csv`),
  `views, row counts and links match /v1/views (${views.views.length} views)`);
  const jsonLink = await fetch(origin + seen.views[0].json);
  check(jsonLink.ok, `the JSON link answers 200 (${seen.views[0].json})`);

  await page.screenshot({ path: join(outDir, 'status-page.png'), fullPage: true });
  console.log(`screenshot: ${join(outDir, 'status-page.png')}`);

  // without JavaScript the page is the same document: the data is all in the HTML
  const noJs = await browser.newContext({ javaScriptEnabled: false });
  await noJs.route('**/*', (route) => {
    requests++;
    if (new URL(route.request().url()).origin !== origin) {
      offsite.push(route.request().url());
      return route.abort();
    }
    return route.continue();
  });
  const p2 = await noJs.newPage();
  p2.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await p2.goto(origin + '/status', { waitUntil: 'load' });
  const lines = await p2.locator('#heartbeat svg polyline.rss').count();
  const rows = await p2.locator('#runs tbody tr').count();
  const gen = await p2.locator('#generation').textContent();
  check(lines >= 1 && rows >= 4 && gen === seen.generation,
    `with JavaScript off the plot (${lines} line), the runs (${rows}) and the data are there`);
  await noJs.close();

  check(consoleErrors.length === 0, `no console errors${consoleErrors.length ? ': ' + consoleErrors.join(' | ') : ''}`);
  check(offsite.length === 0 && requests > 0,
    `no request left ${origin} (${requests} requests${offsite.length ? '; offsite: ' + offsite.join(' ') : ''})`);
} finally {
  await browser.close();
}
console.log(`browser checks took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
if (failures.length) {
  console.log(`${failures.length} check(s) failed`);
  process.exit(1);
}
