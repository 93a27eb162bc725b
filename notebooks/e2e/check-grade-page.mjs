// Opens grade pages (scripts/grade.py's NAME.html) in headless Chromium, as
// a teacher would, and checks that nothing of the
// student's runs: a submission whose cells display script and HTML with
// handlers that would change the page's title, open a dialog or reach the
// network (scripts/check-grader.py writes one) must leave the page as the
// grader wrote it.
//   node check-grade-page.mjs PAGE.html [SCREENSHOT.png]
// For each page it checks: the title is the grader's; no dialog opened; no
// request left the page (file: and data: aside); the notebook is in an
// iframe with an empty sandbox attribute; the grade section is shown; and,
// inside the frame, no script ran (window.mnistfcPwned is unset there).
// With BEACON_PORT set, it serves http://127.0.0.1:BEACON_PORT/ and fails a
// page that made any request to it: the only way to see a request of the
// sandboxed frame, which Chromium does not show the browser's automation.
// Every other request is aborted. Exit status 0 when every page passes.

import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error('usage: node check-grade-page.mjs PAGE.html [SCREENSHOT.png] ...');
  process.exit(2);
}
const log = (msg) => console.log(`grade-page-check: ${msg}`);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mnistfc-grade-page-'));
const browser = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
});
const local = (u) => u.startsWith('file:') || u.startsWith('data:') || u.startsWith('about:');
const beaconPort = Number(process.env.BEACON_PORT || 0);
await browser.route('**/*', (route) => (local(route.request().url()) ? route.continue() : route.abort()));
let beaconHits = [];
const beacon = beaconPort ? http.createServer((req, res) => { beaconHits.push(req.url); res.end(); }) : null;
if (beacon) await new Promise((ok) => beacon.listen(beaconPort, '127.0.0.1', ok));
let failed = 0;
try {
  for (let i = 0; i < args.length; i++) {
    const html = path.resolve(args[i]);
    const shot = args[i + 1]?.endsWith('.png') ? path.resolve(args[++i]) : null;
    const problems = [];
    const page = await browser.newPage();
    page.on('dialog', async (d) => { problems.push(`a dialog opened: ${d.message()}`); await d.dismiss(); });
    // A request that the page's policy stopped fails as blocked; any other
    // was sent (and aborted by the route above).
    const onFailed = (r) => {
      const why = r.failure()?.errorText ?? '';
      if (!local(r.url()) && !/^csp$|BLOCKED_BY_(CSP|CLIENT|RESPONSE)/i.test(why)) problems.push(`a request left the page: ${r.url()} (${why})`);
    };
    browser.on('requestfailed', onFailed);
    beaconHits = [];
    await page.goto(pathToFileURL(html).href, { waitUntil: 'load' });
    await page.waitForTimeout(1500);
    if (beaconHits.length) problems.push(`the page fetched ${beaconHits.join(', ')} from http://127.0.0.1:${beaconPort}`);
    const want = `Grade of ${path.basename(html, '.html')}`;
    const title = await page.title();
    if (title !== want) problems.push(`title ${JSON.stringify(title)}, want ${JSON.stringify(want)}`);
    const frames = await page.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => f.getAttribute('sandbox')));
    if (frames.length !== 1 || frames[0] !== '') problems.push(`iframes ${JSON.stringify(frames)}, want one with sandbox=""`);
    if (!(await page.locator('#grade').isVisible())) problems.push('the grade section is not shown');
    for (const frame of page.frames()) {
      if (await frame.evaluate(() => window.mnistfcPwned !== undefined).catch(() => false)) problems.push(`a script ran in ${frame.url()}`);
    }
    if (shot) await page.screenshot({ path: shot });
    await page.close();
    browser.off('requestfailed', onFailed);
    for (const p of problems) log(`FAIL ${path.basename(html)}: ${p}`);
    if (problems.length) failed++;
    else log(`ok ${path.basename(html)}: nothing of the submission ran`);
  }
} finally {
  if (beacon) beacon.close();
  await browser.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
