// End-to-end test of modalfs-dashboard in Debian's headless Chromium,
// driven by playwright-core. Needs a running modalfsd (MODALFS_SOCKET,
// default /run/modalfs/modalfsd.sock) and root, to create and delete
// volumes. It starts its own dashboard on a free port.
//
//   UI_OUT               where the screenshots and the download go
//                        (default tests/ui/out)
//   UI_MOUNTED_VOLUME    a volume the caller has mounted: deleting it must
//                        be refused, then succeed when forced
//   MODALFSCTL, DASHBOARD, CHROMIUM   the binaries (defaults: the tree's)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '../..');
const OUT = process.env.UI_OUT || path.join(HERE, 'out');
const CTL = process.env.MODALFSCTL || path.join(REPO, 'tools/modalfsctl');
const DASH = process.env.DASHBOARD || path.join(REPO, 'dashboard/modalfs-dashboard');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SOCK = process.env.MODALFS_SOCKET || '/run/modalfs/modalfsd.sock';
const MOUNTED = process.env.UI_MOUNTED_VOLUME || '';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage'];

const ctl = (...args) => execFileSync(CTL, ['--socket', SOCK, ...args],
  { encoding: 'utf8' });
const volumes = () => JSON.parse(ctl('list', '--json')).map((v) => v.name);

// Starts the dashboard; resolves with its base URL, token and process.
function startDashboard(tokenFile) {
  return new Promise((resolve, reject) => {
    const p = spawn(DASH, ['--socket', SOCK, '--port', '0', '--interval', '1',
      '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no URL from the dashboard: ${out}`)), 20000);
    p.on('exit', (code) => reject(new Error(`dashboard exited ${code}: ${out}`)));
    p.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/open (http:\/\/[^/]+\/)\?token=([0-9a-f]{64})/);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], token: m[2], proc: p });
      }
    });
  });
}

test('dashboard: list, browse, download, delete, refuse without token', async (t) => {
  fs.mkdirSync(OUT, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'modalfs-ui-'));
  const data = randomBytes(300 * 1024 + 7);
  const local = path.join(tmp, 'weights.bin');
  fs.writeFileSync(local, data);
  fs.writeFileSync(path.join(tmp, 'README.txt'), 'checkpoints of run 1\n');
  for (const v of ['ui-data', 'ui-doomed']) {
    try { ctl('delete', v, '--force'); } catch { /* not there */ }
  }
  ctl('persisted', 'ui-data');
  ctl('put', 'ui-data', local, '/models/run-1/');
  ctl('put', 'ui-data', path.join(tmp, 'README.txt'), '/');
  ctl('persisted', 'ui-doomed');
  ctl('put', 'ui-doomed', path.join(tmp, 'README.txt'), '/');

  const tokenFile = path.join(tmp, 'dashboard.token');
  const dash = await startDashboard(tokenFile);
  const ctx = await chromium.launchPersistentContext(path.join(tmp, 'profile'), {
    executablePath: CHROMIUM, headless: true, args: FLAGS,
    acceptDownloads: true, viewport: { width: 1100, height: 760 },
  });
  t.after(async () => {
    await ctx.close();
    dash.proc.removeAllListeners('exit');
    dash.proc.kill('SIGTERM');
    try { ctl('delete', 'ui-data', '--force'); } catch { /* gone */ }
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const page = ctx.pages()[0] || await ctx.newPage();

  await t.test('the token file is root-only and holds the token', () => {
    const st = fs.statSync(tokenFile);
    assert.equal(st.mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(tokenFile, 'utf8').trim(), dash.token);
  });

  await t.test('refused without the token', async () => {
    const r = await page.goto(dash.url);
    assert.equal(r.status(), 403);
    assert.match(await page.textContent('body'), /token/);
    const bad = await page.goto(`${dash.url}?token=${'0'.repeat(64)}`);
    assert.equal(bad.status(), 403);
  });

  await t.test('lists the volumes', async () => {
    const r = await page.goto(`${dash.url}?token=${dash.token}`);
    assert.equal(r.status(), 200);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the URL');
    const row = page.locator('tr[data-volume="ui-data"]');
    await row.waitFor();
    const text = await row.textContent();
    assert.match(text, /persisted/);
    assert.match(text, /300 KiB/); // human-readable size
    assert.ok(await page.locator('tr[data-volume="ui-doomed"]').count());
    // Let the sampler take a few points, so the charts have lines.
    await page.waitForTimeout(3500);
    await page.reload();
    assert.ok(await page.locator('tr[data-volume="ui-data"] svg.chart polyline').count());
    await page.screenshot({ path: path.join(OUT, 'dashboard.png'), fullPage: true });
  });

  await t.test('browses into a directory and downloads a file', async () => {
    await page.click('tr[data-volume="ui-data"] a[href="/v/ui-data"]');
    await page.locator('#files').waitFor();
    await page.click('#files a.dir:text("models/")');
    await page.click('#files a.dir:text("run-1/")');
    assert.match(await page.textContent('.crumbs'), /models/);
    assert.ok(await page.locator('#counters').count());
    await page.screenshot({ path: path.join(OUT, 'volume.png'), fullPage: true });
    const [dl] = await Promise.all([
      page.waitForEvent('download'),
      page.click('#files a.file:text("weights.bin")'),
    ]);
    assert.equal(dl.suggestedFilename(), 'weights.bin');
    const saved = path.join(OUT, 'weights.bin');
    await dl.saveAs(saved);
    assert.ok(fs.readFileSync(saved).equals(data), 'downloaded bytes differ');
  });

  await t.test('rejects bad input with a 4xx and a message', async () => {
    for (const [u, code] of [['v/bad%20name', 400], ['v/ui-data?path=/../etc', 400],
      ['v/ui-data?path=/nope', 404], ['dl/ui-data?path=/models', 400], ['nowhere', 404]]) {
      const r = await page.goto(dash.url + u);
      assert.equal(r.status(), code, u);
      assert.ok((await page.textContent('.error')).length > 5, u);
    }
  });

  let csrf = '';
  await t.test('deletes a volume through the trash icon', async () => {
    await page.goto(dash.url);
    await page.click('a.trash[aria-label="Delete volume ui-doomed"]');
    assert.equal(await page.textContent('#confirm-name'), 'ui-doomed');
    assert.match(await page.textContent('#confirm-delete'), /ui-doomed/);
    csrf = await page.getAttribute('input[name="csrf"]', 'value');
    await page.click('#confirm-delete');
    await page.locator('#flash').waitFor();
    assert.match(await page.textContent('#flash'), /ui-doomed/);
    assert.equal(await page.locator('tr[data-volume="ui-doomed"]').count(), 0);
    assert.ok(!volumes().includes('ui-doomed'), 'modalfsctl list still has it');
  });

  if (MOUNTED) {
    await t.test(`refuses to delete mounted ${MOUNTED} unless forced`, async () => {
      await page.goto(dash.url);
      await page.click(`a.trash[aria-label="Delete volume ${MOUNTED}"]`);
      assert.match(await page.textContent('.error'), /mounted/);
      const r = await Promise.all([page.waitForNavigation(), page.click('#confirm-delete')]);
      assert.equal(r[0].status(), 409);
      assert.match(await page.textContent('#refused'), /mounted/);
      assert.ok(volumes().includes(MOUNTED));
      await page.goBack();
      await page.check('#force');
      await page.click('#confirm-delete');
      await page.locator('#flash').waitFor();
      assert.ok(!volumes().includes(MOUNTED));
    });
  }

  await t.test('mutations are refused without the token or the CSRF value', async () => {
    const withCookie = await page.request.post(`${dash.url}delete`,
      { form: { name: 'ui-data', csrf: 'f'.repeat(64) }, maxRedirects: 0 });
    assert.equal(withCookie.status(), 403);
    await ctx.clearCookies();
    const noToken = await page.request.post(`${dash.url}delete`,
      { form: { name: 'ui-data', csrf }, maxRedirects: 0 });
    assert.equal(noToken.status(), 403);
    assert.ok(volumes().includes('ui-data'));
  });

  await t.test('readable on a phone', async () => {
    await page.goto(`${dash.url}?token=${dash.token}`);
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= 392, `page is ${overflow}px wide on a 390px screen`);
    await page.screenshot({ path: path.join(OUT, 'dashboard-phone.png'), fullPage: true });
  });
});
